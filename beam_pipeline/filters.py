"""Row filters of the Go processors' configs (`contract_addresses`, `event_types`, `watch_list`, ...).

A `RowFilter` belongs to one table and keeps the rows of an Arrow batch that match every
criterion it has (criteria are ANDed; the values of one criterion are ORed). It is applied inside
the decode step (`decode._DecodeToRowsFn`), on the batch of a file group, with pyarrow.compute:
filtered rows never leave the worker. Which criterion applies to which table is decided here,
from the table's columns, so that a filter that cannot apply to a table is a config error
(`parse_filter`) rather than a filter that silently keeps every row.

No Beam import at module level: config validation uses this module; `watch_list` files on
gs:// or s3:// are read through Beam's FileSystems, imported when one is named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# Columns that hold a Stellar account (G...) address, by table: what `account_ids` matches.
ACCOUNT_COLUMNS = (
    "account_id", "source_account", "account", "selling_account_address", "buying_account_address",
    "seller_id", "balance_holder",
)
# Where a row's amount is, by table: a column, or ("details_json", key) for operations.
AMOUNT_COLUMNS = {"trades": "selling_amount", "contract_data": "balance", "operations": "details_json"}
PAYMENT_OPERATIONS = ("payment", "path_payment_strict_receive", "path_payment_strict_send")
_CONTRACT_ID = re.compile(r"^C[A-Z2-7]{55}$")
_FIRST_TOPIC_SYMBOL = r'^\[\{"symbol":"(?P<symbol>[^"]*)"'
_DETAILS_AMOUNT = r'[{,]"amount":"?(?P<amount>-?[0-9.]+(?:[eE][-+]?[0-9]+)?)'

# Config keys (the Go processors' spellings) -> RowFilter field.
FILTER_KEYS = {
    "contract_addresses": "contract_ids",
    "contract_ids": "contract_ids",
    "contract_id": "contract_ids",
    "watch_list": "watch_list",
    "event_types": "event_types",
    "min_amount": "min_amount",
    "account_ids": "accounts",
    "account_id": "accounts",
    "accounts": "accounts",
    "addresses": "accounts",
    "operation_types": "operation_types",
}


@dataclass(frozen=True)
class RowFilter:
    """What rows of `table` to keep; recorded as is in the manifest (`describe`)."""

    table: str
    contract_ids: tuple[str, ...] = ()
    watch_list: str | None = None  # the file the ids came from (its ids are in contract_ids)
    event_types: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    operation_types: tuple[str, ...] = ()
    min_amount: float | None = None

    def describe(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()
                if v not in ((), None)}

    def mask(self, batch: pa.RecordBatch) -> pa.Array:
        """A boolean array: True for the rows to keep."""
        keep = pa.array([True] * batch.num_rows, pa.bool_())
        if self.contract_ids:
            keep = pc.and_(keep, pc.is_in(batch.column("contract_id"), pa.array(self.contract_ids)))
        if self.event_types:
            symbols = pc.struct_field(pc.extract_regex(batch.column("topics_decoded"), _FIRST_TOPIC_SYMBOL), [0])
            keep = pc.and_(keep, pc.is_in(symbols, pa.array(self.event_types)))
        if self.operation_types:
            keep = pc.and_(keep, pc.is_in(batch.column("type_string"), pa.array(self.operation_types)))
        if self.accounts:
            wanted = pa.array(self.accounts)
            any_match = None
            for name in _account_columns(batch.schema):
                m = pc.is_in(batch.column(name), wanted)
                any_match = m if any_match is None else pc.or_(any_match, m)
            keep = pc.and_(keep, any_match)
        if self.min_amount is not None:
            keep = pc.and_(keep, pc.greater_equal(_amounts(self.table, batch), self.min_amount))
        return pc.fill_null(keep, False)

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch.filter(self.mask(batch))


def _account_columns(schema: pa.Schema) -> list[str]:
    return [n for n in ACCOUNT_COLUMNS if n in schema.names]


def _amounts(table: str, batch: pa.RecordBatch) -> pa.Array:
    """Each row's amount as float64 (null where it has none: such rows are dropped by min_amount)."""
    column = batch.column(AMOUNT_COLUMNS[table])
    if table == "operations":
        column = pc.struct_field(pc.extract_regex(column, _DETAILS_AMOUNT), [0])
    if pa.types.is_string(column.type):
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    return pc.cast(column, pa.float64())


def read_watch_list(path: str) -> tuple[str, ...]:
    """Contract ids from a JSON file: a list, or an object with a list under contracts/contract_ids/watch_list."""
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as f:
            text = f.read().decode("utf-8")
    else:
        import os

        with open(os.path.expanduser(path), encoding="utf-8") as f:
            text = f.read()
    data = json.loads(text)
    if isinstance(data, dict):
        found = [data[k] for k in ("contracts", "contract_ids", "watch_list") if k in data]
        if not found:
            raise ValueError("expected a JSON list of contract ids or an object with 'contracts'")
        data = found[0]
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise ValueError("expected a JSON list of contract ids (strings)")
    return tuple(data)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(f"expected a string or a list of strings, got {value!r}")


def parse_filter(table: str, schema: pa.Schema, data: dict, path: str, problems: list[str]) -> RowFilter | None:
    """The filter keys of one processor's config -> a RowFilter for `table` (None when it has none).

    `data` holds only filter keys (see FILTER_KEYS); each key's applicability is checked against
    the table's columns.
    """
    values: dict[str, Any] = {}
    names = set(schema.names)
    for key, raw in data.items():
        field = FILTER_KEYS[key]
        where = f"{path}.{key}"
        try:
            if field == "watch_list":
                if not isinstance(raw, str):
                    raise TypeError(f"expected the path of a JSON file, got {raw!r}")
                try:
                    ids = read_watch_list(raw)
                except Exception as e:  # noqa: BLE001 - reported with the file
                    problems.append(f"{where}: cannot read watch list {raw!r}: {e}")
                    continue
                values["watch_list"] = raw
                values["contract_ids"] = values.get("contract_ids", ()) + ids
                field = "contract_ids"
            elif field == "min_amount":
                if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                    raise TypeError(f"expected a number, got {raw!r}")
                try:
                    values["min_amount"] = float(raw)
                except ValueError:
                    raise TypeError(f"expected a number, got {raw!r}") from None
            else:
                values[field] = values.get(field, ()) + _strings(raw)
        except TypeError as e:
            problems.append(f"{where}: {e}")
            continue
        problem = _applicability(field, table, names)
        if problem:
            problems.append(f"{where}: {problem}")
    for cid in values.get("contract_ids", ()):
        if not _CONTRACT_ID.match(cid):
            problems.append(f"{path}: {cid!r} is not a contract id (C... strkey, 56 characters)")
    if not values:
        return None
    return RowFilter(table, **values)


def _applicability(field: str, table: str, names: set[str]) -> str | None:
    """Why a criterion cannot apply to a table, or None."""
    if field == "contract_ids" and "contract_id" not in names:
        return f"table {table!r} has no contract_id column; contract filters apply to contract_data, contract_events"
    if field == "event_types" and "topics_decoded" not in names:
        return f"table {table!r} has no event topics; event_types applies to contract_events"
    if field == "operation_types" and table != "operations":
        return f"operation_types applies to operations, not {table!r}"
    if field == "accounts" and not names.intersection(ACCOUNT_COLUMNS):
        return f"table {table!r} has no account column ({', '.join(ACCOUNT_COLUMNS)})"
    if field == "min_amount" and table not in AMOUNT_COLUMNS:
        return f"table {table!r} has no amount; min_amount applies to {', '.join(sorted(AMOUNT_COLUMNS))}"
    return None

"""``config_settings``: Soroban network configuration entry changes (stellar-etl ``config_settings``).

A config entry holds one setting (a union arm per ``config_setting_id``); stellar-etl flattens
every arm into one wide row and leaves the columns of other arms at zero/empty, and so do we.
Some columns are aliases kept for Hubble's history (e.g. ``ledger_max_read_ledger_entries`` and
``ledger_max_disk_read_entries`` both read ``ledgerMaxDiskReadEntries`` since protocol 23);
`tables.config_settings.SCALARS` spells each mapping out as stellar-etl does. Cost parameters are a JSON string column
(a list of ``{"ConstTerm", "ExtV", "LinearTerm"}`` objects with string values, like stellar-etl).
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.records.tables.config_settings import BYPASS_TXS, FROZEN_KEYS, SCALARS, SCALARS_2, SCALARS_3
from beam_pipeline.util.scval import json_text
from beam_pipeline.xdr.ledger import LedgerView


def _number(value) -> int:
    """The int inside an XDR number wrapper (Uint32, Int64, ...)."""
    if isinstance(value, int):
        return value
    (inner,) = vars(value).values()
    return inner


def _arm(cs: xdr.ConfigSettingEntry, arm: str):
    """The union arm's value if `cs` holds that arm, else None (Go's ``GetX`` returning !ok)."""
    return getattr(cs, arm, None) if arm else None


def _cost_params(params: xdr.ContractCostParams | None) -> str:
    entries = [] if params is None else params.contract_cost_params
    return json_text(
        [
            {"ExtV": str(p.ext.v), "ConstTerm": str(p.const_term.int64), "LinearTerm": str(p.linear_term.int64)}
            for p in entries
        ]
    )


def _encoded_keys(keys, column: str, sequence: int) -> list[bytes]:
    """Encoded ledger keys, each checked to be the canonical XDR of a LedgerKey (stellar-etl decodes and
    re-encodes them). It must decode whole and re-encode to the same bytes: stellar_sdk's decoder is lenient
    (padding, booleans) where the native core's is strict, and canonical bytes pass both alike."""
    out = []
    for i, key in enumerate(keys):
        data = key.encoded_ledger_key
        try:
            canonical = xdr.LedgerKey.from_xdr_bytes(data).to_xdr_bytes()
        except Exception:  # the XDR library raises several types for malformed input
            canonical = None
        if canonical != data:
            raise ValueError(f"ledger {sequence}: {column} key {i} is not the canonical XDR of a LedgerKey")
        out.append(data)
    return out


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    cs = change.entry.data.config_setting
    row: dict = {"config_setting_id": cs.config_setting_id.value}
    for name, _, arm, field in (*SCALARS, *SCALARS_2, *SCALARS_3):
        value = _arm(cs, arm)
        if value is not None and field is not None:
            value = getattr(value, field)
        row[name] = 0 if value is None else _number(value)
    row["contract_cost_params_cpu_insns"] = _cost_params(cs.contract_cost_params_cpu_insns)
    row["contract_cost_params_mem_bytes"] = _cost_params(cs.contract_cost_params_mem_bytes)
    window = [w.uint64 for w in cs.live_soroban_state_size_window or []]
    row["bucket_list_size_window"] = window
    row["live_soroban_state_size_window"] = list(window)
    for name, arm, field in FROZEN_KEYS:
        value = _arm(cs, arm)
        row[name] = [] if value is None else _encoded_keys(getattr(value, field), name, ledger.sequence)
    for name, arm, field in BYPASS_TXS:
        value = _arm(cs, arm)
        row[name] = [] if value is None else [h.hash.hex() for h in getattr(value, field)]
    row.update(change_columns(change, ledger))
    return row


def transform(ledger: LedgerView) -> list[dict]:
    """One row per config setting changed in the ledger (compacted), e.g. by a network upgrade."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.CONFIG_SETTING)]

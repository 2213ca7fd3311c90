"""BigQuery schema files for ``bq load --source_format=PARQUET --hive_partitioning_mode=AUTO``.

``python -m beam_pipeline schemas --bigquery DIR`` writes ``DIR/{table}.json`` per table: BigQuery's
JSON schema format (a list of ``{"name", "type", "mode"}``), generated from the same registry as the
Parquet files, so the two cannot drift. Types follow Hubble (stellar/stellar-etl-airflow
``schemas/``) where the stored values allow it:

- every integer column is ``INTEGER`` (signed 64-bit), as in Hubble, and the files store every one
  as int64, so ``bq load`` converts nothing (an XDR uint64 of 2^63 or more fails its ledger at
  decode, docs/tables.md "Integer types");
- list columns are ``REPEATED`` of their element type;
- XDR columns are ``STRING`` (base64, the default) or ``BYTES`` (``xdr_encoding: binary``);
- columns that hold JSON text are ``JSON`` (`JSON_COLUMNS`); the test suite parses their values.

Partition columns are not listed: ``--hive_partitioning_mode=AUTO`` adds them (``year``... as
INTEGER, ``ledger_range`` as STRING).
"""

from __future__ import annotations

import json
import os

import pyarrow as pa

from beam_pipeline.records import get_table, table_names
from beam_pipeline.records.base import METADATA_FIELDS

# (table, column) whose values are JSON text: BigQuery types them JSON, as Hubble does.
JSON_COLUMNS = {
    ("contract_events", "topics_decoded"),
    ("contract_events", "data_decoded"),
    ("operations", "details"),
    ("operations", "details_json"),
    ("contract_data", "key_decoded"),
    ("contract_data", "val_decoded"),
    ("claimable_balances", "claimants"),
    ("effects", "details"),
}


def _scalar(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "FLOAT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "STRING"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BYTES"
    if pa.types.is_decimal(t):
        return "NUMERIC" if t.precision <= 38 and t.scale <= 9 else "BIGNUMERIC"
    raise ValueError(f"no BigQuery type for Arrow type {t}")


def field_schema(table: str, f: pa.Field) -> dict:
    if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
        return {"name": f.name, "type": _scalar(f.type.value_type), "mode": "REPEATED"}
    kind = "JSON" if (table, f.name) in JSON_COLUMNS else _scalar(f.type)
    return {"name": f.name, "type": kind, "mode": "NULLABLE" if f.nullable else "REQUIRED"}


def table_schema(table: str, xdr_encoding: str = "base64", include_metadata: bool = False) -> list[dict]:
    """BigQuery's JSON schema for one table as the sink stores it."""
    schema = get_table(table).storage_schema(xdr_encoding)
    fields = list(schema) + (list(METADATA_FIELDS) if include_metadata else [])
    return [field_schema(table, f) for f in fields]


def write_schemas(out_dir: str, xdr_encoding: str = "base64", include_metadata: bool = False) -> list[str]:
    """Writes ``{table}.json`` for every table; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name in table_names():
        path = os.path.join(out_dir, f"{name}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(table_schema(name, xdr_encoding, include_metadata), f, indent=1)
            f.write("\n")
        paths.append(path)
    return paths

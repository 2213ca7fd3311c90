"""The ``contract_code`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.contract_code`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table, xdr_field

# The ContractCodeCostInputs fields, each a column.
COST_INPUTS = [
    "n_instructions",
    "n_functions",
    "n_globals",
    "n_table_entries",
    "n_types",
    "n_data_segments",
    "n_elem_segments",
    "n_imports",
    "n_exports",
    "n_data_segment_bytes",
]

SCHEMA = pa.schema(
    [
        pa.field("contract_code_hash", pa.string(), nullable=False),
        pa.field("contract_code_ext_v", pa.int64(), nullable=False),
        *CHANGE_FIELDS,
        pa.field("ledger_key_hash", pa.string(), nullable=False),
        *[pa.field(name, pa.int64(), nullable=False) for name in COST_INPUTS],
        xdr_field("ledger_key_hash_base_64", nullable=False),
    ]
)

TABLE = Table(
    name="contract_code",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.contract_code"),
    description="Contract code (Wasm) entry changes per ledger (stellar-etl contract_code).",
)

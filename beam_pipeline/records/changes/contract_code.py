"""``contract_code``: Soroban Wasm entry changes (stellar-etl ``contract_code``).

The Wasm itself is not exported (stellar-etl does not either); its cost inputs (ContractCodeEntry
ext v1) are, and are 0 for code uploaded before protocol 21 (ext v0).
"""

from __future__ import annotations

import pyarrow as pa
from stellar_sdk import xdr

from beam_pipeline.records.base import UTC_TS, Table, xdr_field
from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.xdr.ledger import LedgerView

_COST_INPUTS = [
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
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("ledger_key_hash", pa.string(), nullable=False),
        *[pa.field(name, pa.int64(), nullable=False) for name in _COST_INPUTS],
        xdr_field("ledger_key_hash_base_64", nullable=False),
    ]
)


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    code = change.entry.data.contract_code
    costs = dict.fromkeys(_COST_INPUTS, 0)
    if code.ext.v == 1:
        inputs = code.ext.v1.cost_inputs
        costs = {name: getattr(inputs, name).uint32 for name in _COST_INPUTS}
    return {
        "contract_code_hash": code.hash.hash.hex(),
        "contract_code_ext_v": code.ext.v,
        "ledger_key_hash": change.key_hash_hex,
        **costs,
        "ledger_key_hash_base_64": change.key_bytes,
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per contract code entry changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.CONTRACT_CODE)]


TABLE = Table(
    name="contract_code",
    schema=SCHEMA,
    version=2,
    transform=transform,
    description="Contract code (Wasm) entry changes per ledger (stellar-etl contract_code).",
)

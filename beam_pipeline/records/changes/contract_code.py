"""``contract_code``: Soroban Wasm entry changes (stellar-etl ``contract_code``).

The Wasm itself is not exported (stellar-etl does not either); its cost inputs (ContractCodeEntry
ext v1) are, and are 0 for code uploaded before protocol 21 (ext v0).
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.records.tables.contract_code import COST_INPUTS
from beam_pipeline.xdr.ledger import LedgerView


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    code = change.entry.data.contract_code
    costs = dict.fromkeys(COST_INPUTS, 0)
    if code.ext.v == 1:
        inputs = code.ext.v1.cost_inputs
        costs = {name: getattr(inputs, name).uint32 for name in COST_INPUTS}
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

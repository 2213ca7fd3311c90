"""Tables: one module per table, registered here by name.

Adding a table is one new module that defines ``TABLE`` and one line in `_MODULES`.
"""

from __future__ import annotations

import importlib

from beam_pipeline.records.base import Table

_MODULES = {
    "ledgers": "beam_pipeline.records.ledgers",
    "transactions": "beam_pipeline.records.transactions",
    "operations": "beam_pipeline.records.operations",
    "contract_events": "beam_pipeline.records.contract_events",
    "token_transfers": "beam_pipeline.records.token_transfers",
    "effects": "beam_pipeline.records.effects",
    "accounts": "beam_pipeline.records.changes.accounts",
    "trustlines": "beam_pipeline.records.changes.trustlines",
    "offers": "beam_pipeline.records.changes.offers",
    "liquidity_pools": "beam_pipeline.records.changes.liquidity_pools",
    "claimable_balances": "beam_pipeline.records.changes.claimable_balances",
    "contract_data": "beam_pipeline.records.changes.contract_data",
    "contract_code": "beam_pipeline.records.changes.contract_code",
    "ttl": "beam_pipeline.records.changes.ttl",
    "config_settings": "beam_pipeline.records.changes.config_settings",
    "restored_keys": "beam_pipeline.records.changes.restored_keys",
    "ledger_entry_changes": "beam_pipeline.records.changes.ledger_entry_changes",
    "trades": "beam_pipeline.records.trades",
    "assets": "beam_pipeline.records.assets",
    "account_signers": "beam_pipeline.records.changes.account_signers",
}


def table_names() -> list[str]:
    return list(_MODULES)


def get_table(name: str) -> Table:
    """The Table registered under `name` (its module is imported on first use)."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(_MODULES)}") from None
    return importlib.import_module(module).TABLE

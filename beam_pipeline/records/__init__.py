"""Tables: one module per table under `tables/`, registered here by name.

A table's module (`beam_pipeline.records.tables.<name>`) defines ``TABLE``: its schema and
metadata, and a `LazyTransform` naming its Python row code (the modules beside `tables/`:
``ledgers.py``, ``changes/accounts.py``, ...), which is imported only when the Python path builds
the table. Reading a table's shape therefore never imports stellar_sdk.

Adding a table is one module under `tables/` that defines ``TABLE``, its row code, and one name in
`_NAMES` (in the order ``--help`` and the docs list tables).
"""

from __future__ import annotations

import importlib

from beam_pipeline.records.base import Table

_NAMES = (
    "ledgers",
    "transactions",
    "operations",
    "contract_events",
    "token_transfers",
    "effects",
    "accounts",
    "trustlines",
    "offers",
    "liquidity_pools",
    "claimable_balances",
    "contract_data",
    "contract_code",
    "ttl",
    "config_settings",
    "restored_keys",
    "ledger_entry_changes",
    "trades",
    "assets",
    "account_signers",
)


def table_names() -> list[str]:
    return list(_NAMES)


def get_table(name: str) -> Table:
    """The Table registered under `name` (its module is imported on first use)."""
    if name not in _NAMES:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(_NAMES)}")
    return importlib.import_module(f"{__name__}.tables.{name}").TABLE

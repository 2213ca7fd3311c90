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

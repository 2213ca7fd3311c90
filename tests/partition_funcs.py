"""Partition functions for the custom `partition_by` tests (imported by name, as users' would be)."""

from __future__ import annotations


def by_hundred(ledger: int, close_time: int) -> str:
    return f"block={ledger // 100}"


def escaping(ledger: int, close_time: int) -> str:
    return f"../../elsewhere/{ledger}"


def failing(ledger: int, close_time: int) -> str:
    raise RuntimeError("no partition for you")

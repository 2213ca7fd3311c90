"""Which rows SaveToRedis keeps, under which key: the latest state per natural key (no Beam imports).

A table's key is ``{key_prefix}{table}:{value of each key column, ':'-joined}``; the `ledgers`
table keeps one key, ``{key_prefix}latest_ledger`` (the Go LatestLedger processor's). A key
holds the row with the highest ledger seen (ties: the later row of that ledger), whatever order
workers and retries deliver rows in.
"""

from __future__ import annotations

# table -> (key columns, the column that orders versions of a key)
REDIS_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "ledgers": ((), "sequence"),
    "contract_data": (("contract_id", "ledger_key_hash"), "ledger_sequence"),
    "contract_code": (("contract_code_hash",), "ledger_sequence"),
    "accounts": (("account_id",), "ledger_sequence"),
    "trustlines": (("ledger_key",), "ledger_sequence"),
    "offers": (("offer_id",), "ledger_sequence"),
    "liquidity_pools": (("liquidity_pool_id",), "ledger_sequence"),
    "claimable_balances": (("balance_id",), "ledger_sequence"),
    "ttl": (("key_hash",), "ledger_sequence"),
}


def redis_key(prefix: str, table: str, row: dict) -> str:
    columns, _ = REDIS_KEYS[table]
    if not columns:
        return f"{prefix}latest_ledger"
    return f"{prefix}{table}:" + ":".join(str(row[c]) for c in columns)

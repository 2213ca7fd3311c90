"""Strkeys (``G...``, ``C...``) of the keys that recur on every ledger, encoded once per process.

stellar_sdk's encoder is pure Python (a CRC16 and a base32 of ~35 bytes, ~20 us a call) and the
tables ask for the same few accounts and contracts again and again: every transaction's source,
every operation's source, every balance change, every event's contract. These wrappers cache the
result by the raw key bytes, so the output is stellar_sdk's own, computed once per distinct key.
Keys that never repeat (signatures, muxed ids) are not worth caching and keep calling `StrKey`.
"""

from __future__ import annotations

from functools import lru_cache

from stellar_sdk import StrKey

# Bounded, so a long run over many distinct accounts cannot grow a worker's memory without limit
# (an entry is ~200 bytes; 2**16 entries is ~13 MB at most).
_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_CACHE_SIZE)
def account_strkey(ed25519: bytes) -> str:
    """``G...`` of a 32-byte ed25519 public key."""
    return StrKey.encode_ed25519_public_key(ed25519)


@lru_cache(maxsize=_CACHE_SIZE)
def contract_strkey(contract_id: bytes) -> str:
    """``C...`` of a 32-byte contract id."""
    return StrKey.encode_contract(contract_id)

"""What a ``getLedgers`` page holds: which ledgers it accounts for, and whether their metadata is theirs.

Both RPC sources (the bounded `sources.rpc` and the tail `sources.rpc_tail`) walk pages the same
way: every entry must be the next ledger expected, and anything else (a gap, a repeat, an entry
without a sequence, metadata of another ledger) is a problem that names the ledgers, never a
silent skip. That accounting lives here once, free of Beam and of the client, so each source only
decides what to do with an outcome (emit it, raise, dead-letter it, claim it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from beam_pipeline.sources.rpc_client import RpcClient, RpcError
from beam_pipeline.xdr.ledger import header_of


class Ledger(NamedTuple):
    """Ledger `seq` is in the page, as `entry` (its metadata not yet checked: see `metadata`)."""

    seq: int
    entry: dict

    @property
    def last(self) -> int:
        """The last ledger this outcome accounts for, as for a `Problem`."""
        return self.seq


class Problem(NamedTuple):
    """Ledgers first..last are not (correctly) in the page; `message` says why and names them."""

    first: int
    last: int
    message: str


def ledgers_text(first: int, last: int) -> str:
    """``ledger 7`` or ``ledgers 7-9``: how messages and dead-letter units name a range."""
    return f"ledger {first}" if first == last else f"ledgers {first}-{last}"


def account_page(entries: Iterable, expected: int, last: int, what: str) -> Iterator[Ledger | Problem]:
    """Outcomes for a page's entries, which should be ledgers `expected`, `expected + 1`, ... `last`.

    The outcomes cover consecutive ledgers from `expected` on, each exactly once, so the next ledger
    to ask for is always the last outcome's ``last + 1``. Every entry moves that forward, so a server
    that repeats itself cannot keep a worker busy forever; entries past `last` (a server sending more
    than asked) belong to someone else and are not looked at. The walk is lazy: a caller that stops
    early (a failed claim) has accounted for exactly what it consumed.

    Args:
        entries: the page's ``ledgers`` list, as the server sent it.
        expected: the ledger the first entry should be.
        last: the last ledger wanted (inclusive).
        what: the request, as named in messages (``ledgers 10-19``).
    """
    for position, entry in enumerate(entries):
        if expected > last:
            return
        seq = entry.get("sequence") if isinstance(entry, dict) else None
        if not isinstance(seq, int):
            yield Problem(
                expected,
                expected,
                f"entry {position} of the page for {what} has no integer sequence where ledger {expected} was expected",
            )
            expected += 1
            continue
        if seq < expected:
            problem = f"returned ledger {seq} where ledger {expected} was expected (repeated or out of order)"
            yield Problem(expected, expected, problem)
            expected += 1
            continue
        if seq > expected:  # a gap: the ledgers in between are missing from the server's answer
            missing = min(seq, last + 1) - 1
            problem = f"{ledgers_text(expected, missing)} missing from the response (it went on with ledger {seq})"
            yield Problem(expected, missing, problem)
            if seq > last:
                return
        yield Ledger(seq, entry)
        expected = seq + 1


def page_error(safe_url: str, problem: Problem) -> RpcError:
    """The error for a `Problem`, naming the server and (through `RpcError.ledger`) its first ledger."""
    return RpcError(f"getLedgers from {safe_url}: {problem.message}", problem.first)


def metadata(entry: dict, seq: int, safe_url: str) -> bytes:
    """metadataXdr -> LedgerCloseMeta bytes, checked to be ledger `seq` (and `hash`, when given)."""
    text = entry.get("metadataXdr")
    if not isinstance(text, str) or not text:
        raise RpcError(f"getLedgers from {safe_url}: ledger {seq} has no metadataXdr", seq)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise RpcError(f"getLedgers from {safe_url}: ledger {seq}: metadataXdr is not base64: {e}", seq) from None
    try:
        header = header_of(data)
    except Exception as e:  # noqa: BLE001 - any decoding failure means the same thing
        raise RpcError(
            f"getLedgers from {safe_url}: ledger {seq}: metadataXdr is not a LedgerCloseMeta: {type(e).__name__}: {e}",
            seq,
        ) from None
    inner = header.header.ledger_seq.uint32
    if inner != seq:
        raise RpcError(
            f"getLedgers from {safe_url}: the entry for ledger {seq} holds the metadata of ledger {inner}", seq
        )
    claimed = entry.get("hash")
    if isinstance(claimed, str) and claimed and claimed.lower() != header.hash.hash.hex():
        raise RpcError(
            f"getLedgers from {safe_url}: ledger {seq}: hash {claimed} does not match its metadata "
            f"({header.hash.hash.hex()})",
            seq,
        )
    return data


def retention_window(client: RpcClient) -> tuple[int, int]:
    """The server's retention window (oldest, latest), from a one-ledger page at its latest ledger.

    Asking at ``latestLedger`` always succeeds, whatever the wanted range, so an out-of-range
    request is reported with the window rather than with the server's bare refusal.
    """
    latest = client.get_latest_ledger().get("sequence")
    if not isinstance(latest, int):
        raise RpcError(f"getLatestLedger from {client.safe_url}: the result has no integer 'sequence'")
    page = client.get_ledgers(1, f"ledger {latest} (retention probe)", start=latest)
    oldest, newest = page.get("oldestLedger"), page.get("latestLedger")
    if not isinstance(oldest, int) or not isinstance(newest, int):
        raise RpcError(f"getLedgers from {client.safe_url}: the result lacks integer oldestLedger/latestLedger")
    return oldest, newest

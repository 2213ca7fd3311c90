"""``start_time`` / ``end_time`` -> ledger numbers, by binary search over close times the source can read.

    start_ledger = the first ledger closing at or after start_time
    end_ledger   = the last ledger closing before end_time   (end_time is exclusive)

Close times never decrease with the ledger sequence, so "first ledger closing at or after t" is a
binary search. Each source offers two things: the ledgers it holds (`bounds`) and the close time
of a ledger (`close_time`):

- a data store lists its partitions and the newest/oldest partition's objects (one delimited
  listing each, never the whole store) for its bounds, and reads the object that holds a probe. The
  search runs first over batches, by the first close time of each probed object, then inside the one
  batch that holds the answer. The native core decodes the objects when it is on (a whole object in
  milliseconds, and no stellar_sdk import: ~0.4 s of CPU); the Python path decodes only the first
  header of a probed batch;
- an RPC server gives its retention window in every ``getLedgers`` answer and the close time of a
  ledger in a one-ledger page.

A time the source cannot answer for is an error, not a silent clamp: a range that starts before
the source's first ledger or ends after its last would archive fewer ledgers than the time range
names, and a later run would not know the gap is there.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache

from beam_pipeline import native
from beam_pipeline.config import DatastoreSourceConfig, PipelineConfig, RpcSourceConfig

log = logging.getLogger(__name__)

GENESIS = 1  # a source whose first ledger is this (or 2) has nothing earlier to miss


class TimeRangeError(ValueError):
    """A time range the source cannot resolve; names the source, the time and what it holds."""


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def first_at_or_after(lo: int, hi: int, t: datetime, close_time: Callable[[int], datetime]) -> int | None:
    """The smallest ``x`` in ``lo..hi`` with ``close_time(x) >= t``, or None (close times ascend with x)."""
    if close_time(hi) < t:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if close_time(mid) >= t:
            hi = mid
        else:
            lo = mid + 1
    return lo


# --- data store --------------------------------------------------------------------------------


class DatastoreClock:
    """Close times of a SEP-54 data store's ledgers, reading as few objects as the search needs."""

    def __init__(self, cfg: DatastoreSourceConfig):
        from beam_pipeline.sources.datastore import load_manifest

        self.root = cfg.path.rstrip("/")
        self.manifest = load_manifest(self.root, cfg)
        self._max_bytes = int(cfg.max_object_size_mb * 1024 * 1024)
        self._list_batches()
        self.reads = 0  # objects read, for tests and logs

    @property
    def description(self) -> str:
        return f"data store {self.root}"

    def _list_batches(self) -> None:
        """Lists the oldest and newest partitions object by object; the partitions between are arithmetic.

        A pubnet store holds tens of millions of objects, so only its root and its two end
        partitions are listed; batches in between are taken to be at their formula keys (galexie
        writes contiguously) and a missing one is reported when a probe reads it.
        """
        from beam_pipeline.sources.sep54 import parse_partition_dir
        from beam_pipeline.util import storage

        names = storage.list_dir(self.root)
        partitions = sorted((*bounds, n) for n in names if (bounds := parse_partition_dir(n)))
        low = high = self._objects("", names)
        self._ext = "zst"
        if partitions:
            first_part, last_part = partitions[0], partitions[-1]
            oldest = self._objects(first_part[2], storage.list_dir(self.root + "/" + first_part[2]))
            low = sorted(set(low) | set(oldest))
            if last_part is not first_part:
                high = self._objects(last_part[2], storage.list_dir(self.root + "/" + last_part[2]))
            else:
                high = []
        if not low:
            raise TimeRangeError(f"{self.root}: the data store holds no ledger objects")
        # Root-level copies of partitioned objects (seen in old stores) are the same batches: keep one.
        dedup: dict[int, tuple[int, int, str]] = {}
        for o in low:
            dedup.setdefault(o[0], o)
        self._low = [dedup[k] for k in sorted(dedup)]
        self._high = [o for o in high if o[0] > self._low[-1][1]]
        self._ext = self._low[0][2].rsplit(".", 1)[1]
        lpb = self.manifest.ledgers_per_batch
        self._mid_start = self._low[-1][0] + lpb
        self._mid_count = max(0, (self._high[0][0] - self._mid_start) // lpb) if self._high else 0

    def __len__(self) -> int:
        return len(self._low) + self._mid_count + len(self._high)

    def batch(self, i: int) -> tuple[int, int, str]:
        """(first ledger, last ledger, key) of the store's `i`-th batch, oldest first."""
        from beam_pipeline.sources import sep54

        if i < len(self._low):
            return self._low[i]
        i -= len(self._low)
        if i < self._mid_count:
            m = self.manifest
            b = self._mid_start + i * m.ledgers_per_batch
            key = sep54.object_key(b, m.ledgers_per_batch, m.batches_per_partition, self._ext)
            return b, b + m.ledgers_per_batch - 1, key
        return self._high[i - self._mid_count]

    @staticmethod
    def _objects(prefix: str, names: list[str]) -> list[tuple[int, int, str]]:
        from beam_pipeline.sources.sep54 import parse_object_name

        return sorted((*bounds, prefix + n) for n in names if (bounds := parse_object_name(n)))

    def bounds(self) -> tuple[int, int]:
        return self.batch(0)[0], self.batch(len(self) - 1)[1]

    def _read(self, key: str) -> bytes:
        from beam_pipeline.sources.datastore import decompress_object
        from beam_pipeline.sources.sep54 import DatastoreError
        from beam_pipeline.util import fs

        path = fs.join(self.root, key)
        try:
            data = fs.read_bytes(path, self._max_bytes)
        except fs.ObjectTooLarge as e:
            raise DatastoreError(str(e)) from None
        except Exception as e:  # noqa: BLE001 - named with the path
            raise DatastoreError(f"{path}: cannot read the object while resolving a time range: {e}") from None
        self.reads += 1
        return decompress_object(data, path, self._max_bytes * 8)

    def batch_first_close(self, i: int) -> datetime:
        """The close time of batch `i`'s first ledger (the Python path decodes only its first header)."""
        return _utc(self._batch_first(i)[1])

    @lru_cache(maxsize=256)  # noqa: B019 - one clock per resolution; the cache dies with it
    def _batch_first(self, i: int) -> tuple[int, int]:
        start, _, key = self.batch(i)
        if native.core() is not None:
            first_seq, closes = self._native_closes(key)
            if not closes:
                raise TimeRangeError(f"{self.root}/{key}: the batch holds no ledgers")
            seq, close = closes[0]
        else:
            first_seq, seq, close = self._python_first(key)
        if seq != first_seq or seq != start:
            raise TimeRangeError(f"{self.root}/{key}: first ledger is {seq}, but the object key says {start}")
        return seq, close

    def _python_first(self, key: str) -> tuple[int, int, int]:
        """(the batch's start sequence, its first ledger, that ledger's close time), decoding one header."""
        from stellar_sdk.xdr.base import Unpacker

        from beam_pipeline.xdr.ledger import LedgerDecodeError, unpack_header_entry

        u = Unpacker(self._read(key))
        first_seq = u.unpack_uint()
        u.unpack_uint()  # endSequence
        if u.unpack_uint() == 0:
            raise TimeRangeError(f"{self.root}/{key}: the batch holds no ledgers")
        try:
            header = unpack_header_entry(u).header
        except LedgerDecodeError as e:
            raise TimeRangeError(f"{self.root}/{key}: {e}") from None
        return first_seq, header.ledger_seq.uint32, header.scp_value.close_time.time_point.uint64

    def _native_closes(self, key: str) -> tuple[int, list[tuple[int, int]]]:
        """(the batch's start sequence, (ledger, close time) of each of its ledgers), by the native core."""
        try:
            decoded = native.core().decode(self._read(key), "batch")
        except ValueError as e:  # the core's NativeError: malformed XDR
            raise TimeRangeError(f"{self.root}/{key}: {e}") from None
        return decoded.start, list(zip(decoded.sequences(), decoded.close_times(), strict=True))

    @lru_cache(maxsize=4)  # noqa: B019
    def batch_closes(self, i: int) -> tuple[tuple[int, int], ...]:
        """(ledger, close time) of every ledger in batch `i`; decodes the whole batch."""
        if native.core() is not None:
            return tuple(self._native_closes(self.batch(i)[2])[1])
        from stellar_sdk import xdr

        from beam_pipeline.xdr.ledger import lcm_body

        key = self.batch(i)[2]
        batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(self._read(key))
        out = []
        for lcm in batch.ledger_close_metas:
            h = lcm_body(lcm).ledger_header.header
            out.append((h.ledger_seq.uint32, h.scp_value.close_time.time_point.uint64))
        return tuple(out)

    def first_at_or_after(self, t: datetime) -> tuple[int, datetime] | None:
        """(ledger, close time) of the first ledger closing at or after `t`, or None if none does."""
        n = len(self)
        # The last batch whose first ledger closes before t holds the answer, or the next batch starts with it.
        j = first_at_or_after(0, n - 1, t, self.batch_first_close)
        if j == 0:
            seq, close = self._batch_first(0)
            return seq, _utc(close)
        i = n - 1 if j is None else j - 1
        closes = self.batch_closes(i)
        k = bisect.bisect_left([c for _, c in closes], t.timestamp())
        if k < len(closes):
            return closes[k][0], _utc(closes[k][1])
        if j is None:
            return None
        seq, close = self._batch_first(j)
        return seq, _utc(close)

    def close_of(self, ledger: int) -> datetime:
        lo, hi = 0, len(self) - 1  # the last batch starting at or before `ledger`
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.batch(mid)[0] <= ledger:
                lo = mid
            else:
                hi = mid - 1
        for seq, close in self.batch_closes(lo):
            if seq == ledger:
                return _utc(close)
        raise TimeRangeError(f"{self.root}: ledger {ledger} is not in the data store (looked in {self.batch(lo)[2]})")


# --- RPC ---------------------------------------------------------------------------------------


class RpcClock:
    """Close times from a Stellar RPC server's ``getLedgers`` (its retention window only)."""

    def __init__(self, cfg: RpcSourceConfig, client=None):
        from beam_pipeline.sources.rpc_client import RpcClient

        self._client = client or RpcClient(
            cfg.rpc_url, cfg.auth_header, timeout=cfg.timeout, retry_limit=cfg.retry_limit, retry_wait=cfg.retry_wait,
            deadline=cfg.request_deadline,
        )
        self.description = f"RPC {self._client.safe_url}"
        self.calls = 0
        from beam_pipeline.sources.rpc_pages import retention_window

        self.calls += 1
        self._bounds = retention_window(self._client)

    def close(self) -> None:
        self._client.close()

    def _page(self, ledger: int) -> dict:
        self.calls += 1
        return self._client.get_ledgers(1, f"the close time of ledger {ledger}", start=ledger)

    def bounds(self) -> tuple[int, int]:
        return self._bounds

    @lru_cache(maxsize=128)  # noqa: B019
    def close_of(self, ledger: int) -> datetime:
        ledgers = self._page(ledger)["ledgers"]
        if not ledgers:
            raise TimeRangeError(f"{self.description}: getLedgers returned no ledger at {ledger}")
        # A gap in the server's store yields the next ledger it has: its close time bounds ours from above.
        return _utc(int(ledgers[0]["ledgerCloseTime"]))

    def first_at_or_after(self, t: datetime) -> tuple[int, datetime] | None:
        lo, hi = self._bounds
        x = first_at_or_after(lo, hi, t, self.close_of)
        return None if x is None else (x, self.close_of(x))


# --- resolution --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Resolution:
    """What a time range became; the CLI logs it and the summary shows it."""

    source: str
    start_time: datetime | None
    end_time: datetime | None
    start_ledger: int
    end_ledger: int | None  # None: an RPC source that follows the chain
    start_close: datetime
    end_close: datetime | None

    def describe(self) -> str:
        start = _iso(self.start_time) if self.start_time else "-"
        asked = f"[{start}, {_iso(self.end_time) if self.end_time else '-'})"
        end = "" if self.end_close is None else _iso(self.end_close)
        return (
            f"time range {asked} -> ledgers {self.start_ledger}-{self.end_ledger or ''} "
            f"(closed {_iso(self.start_close)} .. {end}) from {self.source}"
        )


def _clock_for(src):
    if isinstance(src, DatastoreSourceConfig):
        return DatastoreClock(src)
    if isinstance(src, RpcSourceConfig):
        return RpcClock(src)
    raise TypeError(f"no time-range support for {type(src).__name__}")


def resolve(src, clock=None) -> Resolution:
    """Resolves the source's start_time/end_time (either may be a ledger number instead)."""
    own = clock is None
    clock = clock or _clock_for(src)
    try:
        first, last = clock.bounds()
        where = clock.description

        def at_or_after(t: datetime, key: str) -> tuple[int, datetime]:
            found = clock.first_at_or_after(t)
            if found is None:
                raise TimeRangeError(
                    f"{key} {_iso(t)}: no ledger in {where} closes at or after it "
                    f"(it holds ledgers {first}-{last}, the last closed {_iso(clock.close_of(last))}); "
                    "the range would be incomplete"
                )
            return found

        if src.start_time is not None:
            start, start_close = at_or_after(src.start_time, "start_time")
            if start == first and first > GENESIS + 1 and start_close > src.start_time:
                raise TimeRangeError(
                    f"start_time {_iso(src.start_time)} is before the first ledger in {where} "
                    f"({first}, closed {_iso(start_close)}); earlier ledgers are not available there"
                )
        else:
            start, start_close = src.start_ledger, None
        if src.end_time is not None:
            after, _ = at_or_after(src.end_time, "end_time")
            end = after - 1
            if end < first:
                raise TimeRangeError(
                    f"end_time {_iso(src.end_time)} is before the first ledger in {where} ({first})"
                )
        else:
            end = src.end_ledger
        if end is None and not isinstance(src, RpcSourceConfig):
            raise TimeRangeError("start_time needs an end (end_time or end_ledger) for a data store source")
        if end is not None and end < start:
            raise TimeRangeError(
                f"no ledger closes in [{_iso(src.start_time) if src.start_time else start}, "
                f"{_iso(src.end_time) if src.end_time else end}) in {where}"
            )
        return Resolution(
            source=where,
            start_time=src.start_time,
            end_time=src.end_time,
            start_ledger=start,
            end_ledger=end,
            start_close=start_close or clock.close_of(start),
            end_close=None if end is None else clock.close_of(end),
        )
    finally:
        if own and hasattr(clock, "close"):
            clock.close()


def resolve_time_range_detailed(cfg: PipelineConfig) -> tuple[PipelineConfig, Resolution | None]:
    """`resolve_time_range`, also returning the `Resolution` (None without times) for the run summary."""
    src = cfg.source
    if src.start_time is None and src.end_time is None:
        return cfg, None
    res = resolve(src)
    log.info("%s", res.describe())
    source = dataclasses.replace(
        src, start_ledger=res.start_ledger, end_ledger=res.end_ledger, start_time=None, end_time=None
    )
    return dataclasses.replace(cfg, source=source), res


def resolve_time_range(cfg: PipelineConfig) -> PipelineConfig:
    """The config with start_ledger/end_ledger set from start_time/end_time (and the times cleared)."""
    return resolve_time_range_detailed(cfg)[0]

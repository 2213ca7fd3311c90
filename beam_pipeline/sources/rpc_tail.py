"""Source: follow the chain on a Stellar RPC server (config ``type: rpc`` with ``follow: true`` or no end).

    Start (one TailStart element) -> FollowLedgers (a splittable DoFn over ledger sequence numbers)

The restriction is an `OffsetRange` of ledger sequences, ``[start, end + 1)`` or ``[start, 2**63-1)``
without an end. One restriction is read by one worker at a time, in order, because a chain is
sequential: each call asks ``getLedgers`` from the first unclaimed ledger, claims every ledger it
emits, stamps each blob with the ledger close time and moves a `ManualWatermarkEstimator` to that
close time, so downstream hourly windows close when the chain has passed the hour. When the server
has nothing new, the call sleeps (throttle for runners that ignore the resume delay) and defers the
rest of the range by ``poll_interval``.

Checks are those of the bounded RPC source, shared in `sources.rpc_pages`: a page that skips,
repeats or misplaces a ledger, or metadata that is not the ledger it claims to be, is an error naming
the ledger (or, with ``on_error: dead_letter``, an error blob for exactly those ledgers): never a
silent gap.
Transient failures are retried by `RpcClient` with backoff.

Drain: `truncate` returns nothing, so a Dataflow drain stops the tail at its last checkpoint
instead of reading on to the end ledger; the next start resumes from the archive (see
`sinks.streaming.resume_ledger` and docs/streaming.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from beam_pipeline import DEAD_LETTER
from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import RpcSourceConfig
from beam_pipeline.sources.base import ERROR, LEDGER, LedgerBlob
from beam_pipeline.sources.rpc import RpcDoFn, served_network
from beam_pipeline.sources.rpc_client import DEFAULT_DEADLINE_S, RpcClient, RpcError, Secret
from beam_pipeline.sources.rpc_pages import (
    Problem,
    account_page,
    ledgers_text,
    metadata,
    page_error,
    retention_window,
)
from beam_pipeline.xdr.ledger import header_of

log = logging.getLogger(__name__)

UNBOUNDED = 2**63 - 1  # the stop of an endless restriction (exclusive)
MAX_PAGES_PER_CALL = 20  # then checkpoint, so a long catch-up commits progress regularly
MAX_IDLE_SLEEP_S = 5.0  # the in-DoFn throttle when caught up (some runners resume deferred work at once)


class TailStart(NamedTuple):
    """The one element of the tail: where to start and (optionally) the last ledger to read."""

    first: int
    last: int | None


class TailRestrictionProvider(RestrictionProvider):
    """Ledger sequences as an offset range; never split up front (a chain is read in order)."""

    def initial_restriction(self, element: TailStart) -> OffsetRange:
        stop = UNBOUNDED if element.last is None else element.last + 1
        return OffsetRange(element.first, stop)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def split(self, element, restriction):
        yield restriction

    def restriction_size(self, element, restriction: OffsetRange) -> float:
        return float(min(restriction.size(), 2**31))

    def truncate(self, element, restriction):
        """On drain: no more work. The default would read a bounded range to its end first.

        What the tail did not claim is not lost: the next start resumes from the archive.
        """
        return None


class _FollowLedgersFn(RpcDoFn):
    """Claims, fetches and emits ledgers in sequence; defers when the server has nothing new."""

    def __init__(
        self,
        url: str,
        auth_header: Secret,
        batch_size: int,
        timeout: float,
        retry_limit: int,
        retry_wait: float,
        poll_interval: float,
        on_error: str,
        max_pages: int = MAX_PAGES_PER_CALL,
        sleep: Callable[[float], None] = time.sleep,
        client_factory: Callable[..., RpcClient] | None = None,
        request_deadline: float = DEFAULT_DEADLINE_S,
    ):
        super().__init__(url, auth_header, batch_size, timeout, retry_limit, retry_wait, on_error, client_factory,
                         request_deadline)
        self._poll_interval = poll_interval
        self._max_pages = max_pages
        self._sleep = sleep
        self._polls = Metrics.counter(NAMESPACE, "rpc_idle_polls")
        self._latest: int | None = None

    def process(
        self,
        element: TailStart,
        tracker=beam.DoFn.RestrictionParam(TailRestrictionProvider()),
        watermark_estimator=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ):
        restriction = tracker.current_restriction()
        position, stop = restriction.start, restriction.stop
        safe_url = self._client.safe_url
        for _ in range(self._max_pages):
            if position >= stop:
                tracker.try_claim(position)  # fails: marks the range done
                return
            if self._latest is None or position > self._latest:
                self._latest = self._latest_sequence()
            if position > self._latest:
                # Caught up with the chain: wait here too, since not every runner honours the delay.
                self._polls.inc()
                self._sleep(min(self._poll_interval, MAX_IDLE_SLEEP_S))
                tracker.defer_remainder(Duration.of(self._poll_interval))
                return
            limit = min(self._batch_size, stop - position, self._latest - position + 1)
            what = ledgers_text(position, position + limit - 1)
            try:
                page = self._client.get_ledgers(limit, what, start=position)
            except RpcError as e:
                # The server would not serve these ledgers: one unit for all of them (dead letter) or fail.
                last = position + limit - 1
                blob = self._failed(position, last, RpcError(str(e), position), watermark_estimator)
                if not tracker.try_claim(last):
                    return
                yield blob
                position = last + 1
                continue
            newest = page.get("latestLedger")
            if isinstance(newest, int):
                self._latest = newest
            ledgers = page["ledgers"]
            if not ledgers:
                if self._latest >= position:
                    last = min(self._latest, stop - 1, position + limit - 1)
                    blob = self._failed(position, last, RpcError(
                        f"getLedgers from {safe_url} returned no ledgers for {what} although it holds ledgers up "
                        f"to {self._latest}", position), watermark_estimator)
                    if not tracker.try_claim(last):
                        return
                    yield blob
                    position = last + 1
                continue
            for outcome in account_page(ledgers, position, stop - 1, what):
                if isinstance(outcome, Problem):
                    error = page_error(safe_url, outcome)
                    emitted = self._failed(outcome.first, outcome.last, error, watermark_estimator)
                else:
                    emitted = self._emit(outcome.entry, outcome.seq, safe_url, watermark_estimator)
                if not tracker.try_claim(outcome.last):
                    return
                if emitted.value.kind == LEDGER:
                    # Close times never decrease along the chain; max() keeps the estimator monotonic anyway.
                    current = watermark_estimator.current_watermark()
                    if current is None or emitted.timestamp > current:
                        watermark_estimator.set_watermark(emitted.timestamp)
                yield emitted
                position = outcome.last + 1
        # Page budget spent: checkpoint so the runner commits what was read, and resume at once.
        tracker.defer_remainder()

    def _latest_sequence(self) -> int:
        latest = self._client.get_latest_ledger().get("sequence")
        if not isinstance(latest, int):
            raise RpcError(f"getLatestLedger from {self._client.safe_url}: the result has no integer 'sequence'")
        return latest

    def _emit(self, item: dict, seq: int, safe_url: str, watermark_estimator):
        try:
            data = metadata(item, seq, safe_url)
        except RpcError as e:
            return self._failed(seq, seq, e, watermark_estimator)
        close_time = header_of(data).header.scp_value.close_time.time_point.uint64
        self._ledgers.inc()
        return TimestampedValue(LedgerBlob(f"{safe_url} ledger {seq}", LEDGER, data, seq, seq), close_time)

    def _failed(self, first: int, last: int, error: RpcError, watermark_estimator) -> TimestampedValue:
        if self._on_error != DEAD_LETTER:
            raise error
        log.warning("dead letter: %s", error)
        # Stamped at the watermark: the error belongs where the chain is, and is never late.
        at = watermark_estimator.current_watermark() or Timestamp(0)
        unit = f"{self._client.safe_url} {ledgers_text(first, last)}"
        return TimestampedValue(LedgerBlob(unit, ERROR, str(error).encode(), first, last), at)


class _FollowForeverFn(_FollowLedgersFn):
    """The same DoFn, marked as unbounded work per element: its output (and the job) is streaming."""

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        element: TailStart,
        tracker=beam.DoFn.RestrictionParam(TailRestrictionProvider()),
        watermark_estimator=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ):
        yield from super().process(element, tracker, watermark_estimator)


class TailRpcLedgers(beam.PTransform):
    """PBegin -> PCollection[LedgerBlob]: ledgers from `start` on, as the chain closes them.

    With `end` the output is bounded and the step finishes after ledger `end`; without it the
    output is unbounded and the job runs until drained or cancelled.
    """

    def __init__(self, cfg: RpcSourceConfig, start: int, end: int | None, on_error: str = "fail"):
        super().__init__()
        with RpcClient(cfg.rpc_url, cfg.auth_header, cfg.timeout, cfg.retry_limit, cfg.retry_wait,
                       deadline=cfg.request_deadline) as client:
            self._safe_url = client.safe_url
            if end is not None and start > end:
                raise RpcError(f"RPC source {self._safe_url}: start ledger {start} is after end ledger {end}")
            self.network_passphrase = served_network(client, cfg)
            self.oldest, self.latest = retention_window(client)
        if start < self.oldest:
            raise RpcError(
                f"RPC source {self._safe_url}: ledger {start} is older than the server's retention window "
                f"({self.oldest}-{self.latest}); archive the older ledgers from a data store first"
            )
        self.start, self.end = start, end
        fn_class = _FollowLedgersFn if end is not None else _FollowForeverFn
        self._fn = fn_class(
            cfg.rpc_url,
            Secret(cfg.auth_header),
            cfg.batch_size,
            cfg.timeout,
            cfg.retry_limit,
            cfg.retry_wait,
            cfg.poll_interval,
            on_error,
            request_deadline=cfg.request_deadline,
        )

    @property
    def description(self) -> str:
        until = f"to ledger {self.end}" if self.end is not None else "following the chain"
        return f"rpc tail {self._safe_url} from ledger {self.start} {until}"

    def expand(self, pbegin):
        return (
            pbegin
            | "Start" >> beam.Create([TailStart(self.start, self.end)])
            | "FollowLedgers" >> beam.ParDo(self._fn)
        )

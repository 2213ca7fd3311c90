"""The tail's splittable DoFn, called directly (no runner): claims, watermark, checkpoints, faults, drain.

`process()` gets what the SDK harness would give it: a `RestrictionTrackerView` over an
`OffsetRestrictionTracker` and a `ManualWatermarkEstimator`; the RPC client is a fake serving real
testnet ledgers (testnet-p19-lpf64) up to a `latest` the test moves, with faults the test injects.
"""

from __future__ import annotations

import base64

import pytest
from apache_beam.internal import pickler
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from apache_beam.utils.timestamp import Duration, Timestamp

from beam_pipeline.sources.base import ERROR, LEDGER
from beam_pipeline.sources.rpc_client import RpcError, Secret
from beam_pipeline.sources.rpc_tail import (
    UNBOUNDED,
    TailRestrictionProvider,
    TailStart,
    _FollowForeverFn,
    _FollowLedgersFn,
)
from tests.streaming._ledgers import FIRST, served

pytestmark = pytest.mark.timeout(60)


class FakeClient:
    """Answers like RpcClient from real ledgers; `latest` is the chain head, faults per test."""

    safe_url = "http://fake-rpc/"

    def __init__(self, latest: int, page_limit: int = 200):
        self.latest = latest
        self.page_limit = page_limit
        self.skip: set[int] = set()
        self.fail_at: dict[int, str] = {}  # first ledger of a request -> error message
        self.calls: list[tuple] = []
        self.closed = False

    def get_latest_ledger(self) -> dict:
        self.calls.append(("getLatestLedger",))
        return {"sequence": self.latest}

    def get_ledgers(self, limit, what, start=None, cursor=None):
        self.calls.append(("getLedgers", start, limit))
        if start in self.fail_at:
            raise RpcError(f"getLedgers for {what} from {self.safe_url} failed after 6 attempts: {self.fail_at[start]}")
        ledgers = served()
        page = []
        for seq in range(start, min(start + min(limit, self.page_limit), self.latest + 1)):
            if seq in self.skip:
                continue
            s = ledgers[seq]
            page.append({"sequence": seq, "hash": s.hash, "metadataXdr": base64.b64encode(s.meta_xdr).decode()})
        return {"ledgers": page, "latestLedger": self.latest, "oldestLedger": FIRST}

    def close(self):
        self.closed = True


def make_fn(client: FakeClient, on_error: str = "fail", max_pages: int = 20, cls=_FollowLedgersFn):
    sleeps: list[float] = []
    fn = cls(
        "http://fake-rpc/", Secret(None), batch_size=4, timeout=1, retry_limit=0, retry_wait=0,
        poll_interval=7.0, on_error=on_error, max_pages=max_pages, sleep=sleeps.append,
        client_factory=lambda *a, **k: client,
    )
    fn.setup()
    return fn, sleeps


def run(fn, start: int, stop: int, watermark: Timestamp | None = None):
    """One process() call the way the SDK makes it; (outputs, tracker, estimator)."""
    tracker = ThreadsafeRestrictionTracker(OffsetRestrictionTracker(OffsetRange(start, stop)))
    estimator = ManualWatermarkEstimator(watermark)
    out = list(fn.process(TailStart(start, None), RestrictionTrackerView(tracker), estimator))
    return out, tracker, estimator


def close_time(seq: int) -> int:
    return served()[seq].close_time


def test_emits_claimed_ledgers_with_close_times_then_defers_when_caught_up():
    """Runner: none (DoFn called directly). Head at FIRST+9: ten ledgers, then a deferred remainder."""
    client = FakeClient(latest=FIRST + 9)
    fn, sleeps = make_fn(client)
    out, tracker, estimator = run(fn, FIRST, UNBOUNDED)

    assert [tv.value.first for tv in out] == list(range(FIRST, FIRST + 10))
    assert all(tv.value.kind == LEDGER and tv.value.first == tv.value.last for tv in out)
    assert [tv.timestamp for tv in out] == [Timestamp(close_time(s)) for s in range(FIRST, FIRST + 10)]
    assert out[3].value.data == served()[FIRST + 3].meta_xdr
    assert estimator.current_watermark() == Timestamp(close_time(FIRST + 9))
    residual, delay = tracker.deferred_status()
    assert residual == OffsetRange(FIRST + 10, UNBOUNDED)
    assert Duration.of(6.0) < delay <= Duration.of(7.0)  # the SDK counts down from the defer call
    assert sleeps == [5.0]  # throttled in the DoFn too, capped at MAX_IDLE_SLEEP_S
    assert tracker.current_restriction() == OffsetRange(FIRST, FIRST + 10)
    tracker.check_done()  # everything in the primary was claimed


def test_resumes_from_the_residual_as_the_chain_grows():
    """Runner: none. A second call on the deferred residual reads only the new ledgers."""
    client = FakeClient(latest=FIRST + 2)
    fn, _ = make_fn(client)
    out1, tracker1, est1 = run(fn, FIRST, UNBOUNDED)
    residual, _ = tracker1.deferred_status()
    client.latest = FIRST + 5
    out2, tracker2, est2 = run(fn, residual.start, residual.stop, est1.current_watermark())
    assert [tv.value.first for tv in out1 + out2] == list(range(FIRST, FIRST + 6))
    assert est2.current_watermark() == Timestamp(close_time(FIRST + 5))
    assert tracker2.deferred_status()[0] == OffsetRange(FIRST + 6, UNBOUNDED)


def test_bounded_range_finishes_without_deferring():
    """Runner: none. With an end ledger the call ends once the end is claimed (no residual)."""
    client = FakeClient(latest=FIRST + 50)
    fn, sleeps = make_fn(client)
    out, tracker, _ = run(fn, FIRST + 5, FIRST + 12)  # ledgers FIRST+5..FIRST+11
    assert [tv.value.first for tv in out] == list(range(FIRST + 5, FIRST + 12))
    assert tracker.deferred_status() is None
    tracker.check_done()
    assert sleeps == []
    # Pages never reach past the end ledger.
    assert all(start + limit <= FIRST + 12 for _, start, limit in (c for c in client.calls if c[0] == "getLedgers"))


def test_page_budget_checkpoints_without_delay():
    """Runner: none. After max_pages pages the call checkpoints and asks to resume at once."""
    client = FakeClient(latest=FIRST + 100)
    fn, sleeps = make_fn(client, max_pages=2)
    out, tracker, _ = run(fn, FIRST, UNBOUNDED)
    assert [tv.value.first for tv in out] == list(range(FIRST, FIRST + 8))  # 2 pages of batch_size 4
    residual, delay = tracker.deferred_status()
    assert residual.start == FIRST + 8 and delay == Duration()
    assert sleeps == []


def test_skipped_ledger_is_an_error_naming_it():
    """Runner: none. A page that jumps over a ledger fails with the ledger's number, nothing after it."""
    client = FakeClient(latest=FIRST + 9)
    client.skip = {FIRST + 2}
    fn, _ = make_fn(client)
    emitted = []
    with pytest.raises(RpcError, match=rf"ledger {FIRST + 2} missing from the response"):
        tracker = ThreadsafeRestrictionTracker(OffsetRestrictionTracker(OffsetRange(FIRST, UNBOUNDED)))
        for tv in fn.process(TailStart(FIRST, None), RestrictionTrackerView(tracker), ManualWatermarkEstimator(None)):
            emitted.append(tv.value.first)
    assert emitted == [FIRST, FIRST + 1]


def test_skipped_ledger_dead_letters_exactly_that_ledger():
    """Runner: none. With on_error dead_letter the gap becomes one error blob naming it; reading goes on."""
    client = FakeClient(latest=FIRST + 5)
    client.skip = {FIRST + 2, FIRST + 3}
    fn, _ = make_fn(client, on_error="dead_letter")
    out, _, _ = run(fn, FIRST, UNBOUNDED)
    kinds = [(tv.value.kind, tv.value.first, tv.value.last) for tv in out]
    assert kinds == [
        (LEDGER, FIRST, FIRST),
        (LEDGER, FIRST + 1, FIRST + 1),
        (ERROR, FIRST + 2, FIRST + 3),
        (LEDGER, FIRST + 4, FIRST + 4),
        (LEDGER, FIRST + 5, FIRST + 5),
    ]
    assert f"ledgers {FIRST + 2}-{FIRST + 3} missing" in out[2].value.data.decode()


def test_rpc_failure_names_the_ledgers_and_claims_nothing_more():
    """Runner: none. A call that fails after the client's retries raises naming the ledgers asked for."""
    client = FakeClient(latest=FIRST + 20)
    client.fail_at = {FIRST + 4: "HTTP 500 Internal Server Error"}
    fn, _ = make_fn(client)
    tracker = ThreadsafeRestrictionTracker(OffsetRestrictionTracker(OffsetRange(FIRST, FIRST + 100)))
    got = []
    with pytest.raises(RpcError, match=rf"ledgers {FIRST + 4}-{FIRST + 7}.*HTTP 500"):
        for tv in fn.process(TailStart(FIRST, None), RestrictionTrackerView(tracker), ManualWatermarkEstimator(None)):
            got.append(tv.value.first)
    assert got == list(range(FIRST, FIRST + 4))
    # Nothing past the failure was claimed: a retried bundle starts again at FIRST+4's page.
    primary, residual = tracker.try_split(0)
    assert primary == OffsetRange(FIRST, FIRST + 4) and residual == OffsetRange(FIRST + 4, FIRST + 100)


def test_bad_metadata_is_an_error_naming_the_ledger():
    """Runner: none. Metadata of another ledger under a sequence is refused, naming both."""
    client = FakeClient(latest=FIRST + 3)
    real = client.get_ledgers

    def swapped(limit, what, start=None, cursor=None):
        page = real(limit, what, start=start)
        page["ledgers"][1]["metadataXdr"] = page["ledgers"][0]["metadataXdr"]
        page["ledgers"][1]["hash"] = None
        return page

    client.get_ledgers = swapped
    fn, _ = make_fn(client)
    with pytest.raises(RpcError, match=rf"entry for ledger {FIRST + 1} holds the metadata of ledger {FIRST}"):
        run(fn, FIRST, UNBOUNDED)


def test_truncate_on_drain_stops_bounded_and_unbounded_restrictions():
    """Runner: none. Drain truncates the rest to nothing (the default would read a bounded range to its end)."""
    provider = TailRestrictionProvider()
    element = TailStart(FIRST, FIRST + 100)
    bounded = provider.initial_restriction(element)
    assert bounded == OffsetRange(FIRST, FIRST + 101)
    assert provider.truncate(element, bounded) is None
    unbounded = provider.initial_restriction(TailStart(FIRST, None))
    assert unbounded == OffsetRange(FIRST, UNBOUNDED)
    assert provider.truncate(TailStart(FIRST, None), unbounded) is None
    assert list(provider.split(element, bounded)) == [bounded]  # never split up front


def test_unbounded_marking_and_pickling():
    """Runner: none. The endless variant is marked unbounded-per-element; both pickle without the client."""
    client = FakeClient(latest=FIRST)
    for cls, unbounded in ((_FollowLedgersFn, False), (_FollowForeverFn, True)):
        fn = cls("http://user:pw@fake-rpc/?key=s3cret", Secret("Bearer tok"), 4, 1, 0, 0, 5.0, "fail")
        assert getattr(fn.process, "unbounded_per_element", False) is unbounded
        restored = pickler.loads(pickler.dumps(fn))
        assert restored._url == fn._url and restored._client is None
        assert "tok" not in repr(restored._auth)
    fn, _ = make_fn(client, cls=_FollowForeverFn)
    out, tracker, _ = run(fn, FIRST, UNBOUNDED)
    assert [tv.value.first for tv in out] == [FIRST]
    assert tracker.deferred_status()[0].start == FIRST + 1
    fn.teardown()
    assert client.closed

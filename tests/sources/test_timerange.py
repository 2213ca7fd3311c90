"""start_time/end_time -> ledgers, on real close times (testnet-p19-lpf64: 04:23:44Z .. 04:51:42Z).

Expected ledgers come from a brute-force scan of every ledger's close time, so the binary search
is checked against an independent answer, not against itself.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import zstandard
from stellar_sdk import xdr

from beam_pipeline import native
from beam_pipeline.config import DatastoreSourceConfig, RpcSourceConfig
from beam_pipeline.sources import sep54
from beam_pipeline.sources.datastore import decompress_object
from beam_pipeline.sources.timerange import DatastoreClock, RpcClock, TimeRangeError, resolve, resolve_time_range
from tests.harness import datastore, job_config, read_table, run_job

P19 = "testnet-p19-lpf64"
FIRST, LAST = 1410048, 1410367


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def closes() -> dict[int, int]:
    """Ledger -> close time (unix seconds) of every ledger in the store, by decoding every object."""
    out = {}
    root = datastore(P19)
    for b in range(FIRST, LAST + 1, 64):
        with open(f"{root}/{sep54.object_key(b, 64, 10)}", "rb") as f:
            batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(decompress_object(f.read(), "x", 1 << 30))
        for lcm in batch.ledger_close_metas:
            h = lcm.v0.ledger_header.header
            out[h.ledger_seq.uint32] = h.scp_value.close_time.time_point.uint64
    assert sorted(out) == list(range(FIRST, LAST + 1))
    return out


@pytest.fixture(params=["1", "0"], ids=["native", "python"])
def decoder(request, monkeypatch) -> str:
    """The data store's objects decoded by the native core (no stellar_sdk import), then by the Python path."""
    monkeypatch.setenv(native.MODE_ENV, request.param)
    return request.param


def _expected(closes: dict[int, int], start: datetime, end: datetime) -> tuple[int, int]:
    return (
        min(seq for seq, t in closes.items() if t >= start.timestamp()),
        max(seq for seq, t in closes.items() if t < end.timestamp()),
    )


def _ds(start: str | None, end: str | None, **kw) -> DatastoreSourceConfig:
    return DatastoreSourceConfig(
        path=datastore(P19),
        start_time=_utc(start) if start else None,
        end_time=_utc(end) if end else None,
        **kw,
    )


@pytest.mark.parametrize(
    "start,end",
    [
        ("2022-06-10T04:30:00Z", "2022-06-10T04:40:00Z"),  # inside; answers in the middle of batches
        ("2022-06-10T04:23:44Z", "2022-06-10T04:51:42Z"),  # exactly the first close; end exclusive of the last
        ("2022-06-10T04:29:00Z", "2022-06-10T04:29:30Z"),  # a few ledgers
    ],
)
def test_datastore_time_range_matches_a_full_scan(closes, start, end, decoder):
    clock = DatastoreClock(_ds(start, end))
    res = resolve(_ds(start, end), clock)
    want = _expected(closes, _utc(start), _utc(end))
    assert (res.start_ledger, res.end_ledger) == want
    assert res.start_close.timestamp() == closes[want[0]] >= _utc(start).timestamp()
    assert res.end_close.timestamp() == closes[want[1]] < _utc(end).timestamp()
    assert closes[want[1] + 1] >= _utc(end).timestamp()  # the next ledger is outside the range
    assert clock.reads <= 8  # a search, not a scan of all 5 objects twice


def test_exact_close_time_is_included_at_start_and_excluded_at_end(closes):
    seq = 1410200
    t = datetime.fromtimestamp(closes[seq], tz=timezone.utc)
    res = resolve(_ds(t.isoformat(), (t + timedelta(seconds=1)).isoformat()))
    assert res.start_ledger == seq
    assert res.end_ledger == seq  # end_time one second later: only this ledger
    res = resolve(_ds("2022-06-10T04:30:00Z", t.isoformat()))
    assert res.end_ledger == seq - 1


def test_time_and_ledger_bounds_mix(closes):
    src = _ds("2022-06-10T04:45:00Z", None, end_ledger=LAST)
    res = resolve(src)
    assert res.start_ledger == _expected(closes, _utc("2022-06-10T04:45:00Z"), _utc("2030-01-01T00:00:00Z"))[0]
    assert res.end_ledger == LAST


@pytest.mark.parametrize(
    "start,end,message",
    [
        ("2022-06-10T04:00:00Z", "2022-06-10T04:30:00Z", "is before the first ledger"),
        ("2022-06-10T04:30:00Z", "2022-06-10T05:00:00Z", "no ledger in data store"),
        ("2022-06-10T05:00:00Z", "2022-06-10T06:00:00Z", "no ledger in data store"),
        ("2022-06-10T04:30:00.2Z", "2022-06-10T04:30:00.4Z", "no ledger closes in"),
    ],
)
def test_times_outside_the_store_are_errors(start, end, message):
    with pytest.raises(TimeRangeError, match=message):
        resolve(_ds(start, end))


def test_an_undecodable_probed_object_is_an_error_naming_it(tmp_path, decoder):
    root = tmp_path / "store"
    shutil.copytree(datastore(P19), root)
    key = sep54.object_key(1410176, 64, 10)  # the middle of five objects: the search's first probe
    path = root / key
    path.chmod(0o644)
    data = decompress_object(path.read_bytes(), key, 1 << 30)
    path.write_bytes(zstandard.ZstdCompressor().compress(data[:12] + b"\xff" * 40 + data[52:]))  # its first header
    src = DatastoreSourceConfig(path=str(root), start_time=_utc("2022-06-10T04:30:00Z"),
                                end_time=_utc("2022-06-10T04:40:00Z"))
    with pytest.raises(TimeRangeError, match=rf"^{re.escape(str(path))}: "):
        resolve(src)


def test_bounds_come_from_listing_not_the_config():
    clock = DatastoreClock(_ds("2022-06-10T04:30:00Z", "2022-06-10T04:40:00Z"))
    assert clock.bounds() == (FIRST, LAST)
    assert len(clock) == 5
    p23 = DatastoreSourceConfig(path=datastore("standalone-p23-loadtest"), start_ledger=1, end_ledger=2)
    other = DatastoreClock(p23)
    assert other.bounds() == (84, 88)  # non-contiguous store: 84, 85, 88


def test_resolve_time_range_returns_ledgers_and_clears_times(closes):
    from beam_pipeline.config import parse_config

    cfg = parse_config(job_config(datastore(P19), 1, 2, "/tmp/unused"))
    import dataclasses

    src = dataclasses.replace(
        cfg.source, start_ledger=None, end_ledger=None,
        start_time=_utc("2022-06-10T04:30:00Z"), end_time=_utc("2022-06-10T04:40:00Z"),
    )
    out = resolve_time_range(dataclasses.replace(cfg, source=src))
    assert (out.source.start_ledger, out.source.end_ledger) == _expected(
        closes, _utc("2022-06-10T04:30:00Z"), _utc("2022-06-10T04:40:00Z")
    )
    assert out.source.start_time is None and out.source.end_time is None


def test_rpc_time_range_matches_the_datastore(fake_rpc, closes):
    server = fake_rpc(P19)
    start, end = "2022-06-10T04:30:00Z", "2022-06-10T04:40:00Z"
    src = RpcSourceConfig(rpc_url=server.url, start_time=_utc(start), end_time=_utc(end), retry_limit=0)
    clock = RpcClock(src)
    try:
        res = resolve(src, clock)
    finally:
        clock.close()
    assert (res.start_ledger, res.end_ledger) == _expected(closes, _utc(start), _utc(end))
    assert clock.calls < 30  # ~2 x log2(320) probes plus the bounds, not 320
    assert all(p["pagination"]["limit"] == 1 for p in server.ledger_requests())


def test_rpc_start_before_retention_window_is_an_error(fake_rpc):
    server = fake_rpc(P19)
    src = RpcSourceConfig(rpc_url=server.url, start_time=_utc("2022-06-10T04:00:00Z"), end_ledger=LAST, retry_limit=0)
    with pytest.raises(TimeRangeError, match=r"before the first ledger in RPC http://127\.0\.0\.1"):
        resolve(src)


def test_job_with_time_range_archives_exactly_those_ledgers(tmp_path, closes):
    start, end = "2022-06-10T04:30:00Z", "2022-06-10T04:33:00Z"
    cfg = job_config(datastore(P19), 0, 0, tmp_path / "out", tables=["ledgers"])
    src = cfg["pipeline"]["source"]["config"]
    del src["start_ledger"], src["end_ledger"]
    src.update(start_time=start, end_time=end)
    assert run_job(cfg, tmp_path) == 0
    seqs = sorted(read_table(tmp_path / "out", "ledgers").column("sequence").to_pylist())
    lo, hi = _expected(closes, _utc(start), _utc(end))
    assert seqs == list(range(lo, hi + 1))

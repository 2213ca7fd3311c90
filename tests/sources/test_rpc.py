"""The Stellar RPC source against a fake RPC server serving real testnet ledgers.

The fake (tests/fakes/rpc_server.py) serves testnet-p19-lpf64 (ledgers 1410048..1410367) the way
stellar-rpc does, with faults injected per test. DoFn-level tests call the fetch DoFn directly;
retry and metric tests run the source in a Beam pipeline; the end-to-end tests run the CLI.
"""

from __future__ import annotations

import email.utils
import glob
import json
import logging
import socket
import time
import uuid
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.internal import pickler
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_pipeline.config import NETWORKS, RpcSourceConfig
from beam_pipeline.sources.base import ERROR, LEDGER
from beam_pipeline.sources.rpc import LedgerRange, ReadRpcLedgers, split_range
from beam_pipeline.sources.rpc_client import RpcClient, RpcError, auth_headers, redact_url
from beam_pipeline.summary import query_metrics
from tests.fakes.rpc_server import FakeRpcServer, Fault
from tests.harness import datastore, job_config, read_table, run_job

pytestmark = pytest.mark.timeout(60)

FIRST, LAST = 1410048, 1410367  # what testnet-p19-lpf64 holds
TESTNET = NETWORKS["testnet"]

_COLLECTED: dict[str, list] = {}


def _cfg(server: FakeRpcServer, **kw) -> RpcSourceConfig:
    kw.setdefault("retry_wait", 0.01)
    kw.setdefault("timeout", 5.0)
    return RpcSourceConfig(rpc_url=kw.pop("rpc_url", server.url), **kw)


def _collect(blob, key: str) -> None:
    _COLLECTED.setdefault(key, []).append(blob)


def run_source(source: ReadRpcLedgers) -> tuple[list, dict[str, int]]:
    """Runs the source alone on the in-process FnApiRunner; its blobs (by first ledger) and counters."""
    key = uuid.uuid4().hex
    p = beam.Pipeline(runner=FnApiRunner())
    _ = p | "Read" >> source | "Collect" >> beam.Map(_collect, key)
    result = p.run()
    result.wait_until_finish()
    return sorted(_COLLECTED.pop(key, []), key=lambda b: (b.first, b.kind)), query_metrics(result)


def fetch(source: ReadRpcLedgers, first: int, last: int) -> list:
    """Calls the fetch DoFn directly for one chunk (setup/process/teardown, as a worker would)."""
    fn = source._fn
    fn.setup()
    try:
        return list(fn.process(LedgerRange(first, last)))
    finally:
        fn.teardown()


def pipeline_requests(server: FakeRpcServer) -> list[dict]:
    """getLedgers requests made by workers (not the construction-time probe at the latest ledger)."""
    return [r for r in server.ledger_requests() if r.get("startLedger") != server.latest]


def covered(request: dict) -> range:
    page = request["pagination"]
    first = int(page["cursor"]) + 1 if "cursor" in page else request["startLedger"]
    return range(first, first + page["limit"])


# --- plain functions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, size, chunks",
    [
        (10, 10, 5, [(10, 10)]),
        (10, 19, 5, [(10, 14), (15, 19)]),
        (10, 20, 5, [(10, 14), (15, 19), (20, 20)]),
        (10, 12, 1000, [(10, 12)]),
    ],
)
def test_split_range_covers_the_range_exactly_once(start, end, size, chunks):
    assert split_range(start, end, size) == [LedgerRange(a, b) for a, b in chunks]


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://rpc.example.org/", "https://rpc.example.org/"),
        ("https://user:pw@rpc.example.org:8443/soroban/rpc?apikey=k1#frag", "https://rpc.example.org:8443/soroban/rpc"),
        ("http://[::1]:8000/x?token=t", "http://[::1]:8000/x"),
    ],
)
def test_redact_url_drops_userinfo_query_and_fragment(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "value, headers",
    [
        (None, {}),
        ("Bearer abc.def", {"Authorization": "Bearer abc.def"}),
        ("X-API-Key: k-123", {"X-API-Key": "k-123"}),
        ("Basic dXNlcjpwdw==", {"Authorization": "Basic dXNlcjpwdw=="}),
    ],
)
def test_auth_header_forms(value, headers):
    assert auth_headers(value) == headers


# --- construction ---------------------------------------------------------------------------


def test_construction_learns_network_and_retention_window(fake_rpc):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server, chunk_size=25), FIRST, FIRST + 59)
    assert source.network_passphrase == TESTNET
    assert (source.oldest, source.latest) == (FIRST, LAST)
    assert source.description == f"rpc {server.url} (3 chunks)"
    # Construction asks for the network and the window only; ledgers are fetched by workers.
    assert [r.method for r in server.requests] == ["getNetwork", "getLatestLedger", "getLedgers"]


@pytest.mark.parametrize(
    "oldest, start, end, expected",
    [
        (
            FIRST,
            FIRST - 48,
            FIRST + 10,
            f"ledgers {FIRST - 48}-{FIRST + 10} are not all available: the server holds ledgers {FIRST}-{LAST} "
            "(the start is older than its retention window)",
        ),
        (
            FIRST + 100,
            FIRST,
            FIRST + 150,
            f"ledgers {FIRST}-{FIRST + 150} are not all available: the server holds ledgers {FIRST + 100}-{LAST} "
            "(the start is older than its retention window)",
        ),
        (
            FIRST,
            LAST - 10,
            LAST + 5,
            f"ledgers {LAST - 10}-{LAST + 5} are not all available: the server holds ledgers {FIRST}-{LAST} "
            f"(ledger {LAST + 5} has not closed yet)",
        ),
    ],
)
def test_range_outside_the_retention_window_is_refused(fake_rpc, oldest, start, end, expected):
    server = fake_rpc()
    server.oldest = oldest
    with pytest.raises(RpcError) as e:
        ReadRpcLedgers(_cfg(server), start, end)
    assert str(e.value) == f"RPC source {server.url}: {expected}"


def test_network_mismatch_is_refused(fake_rpc):
    server = fake_rpc()
    with pytest.raises(RpcError) as e:
        ReadRpcLedgers(_cfg(server, network="pubnet"), FIRST, FIRST + 5)
    assert str(e.value) == (
        f"RPC source {server.url} serves network {TESTNET!r}, but the config says network 'pubnet' "
        f"({NETWORKS['pubnet']!r})"
    )
    # A matching configured network is accepted.
    assert ReadRpcLedgers(_cfg(server, network="testnet"), FIRST, FIRST + 5).network_passphrase == TESTNET


def test_missing_credentials_fail_at_once_without_retries(fake_rpc):
    server = fake_rpc()
    server.require_auth = ("Authorization", "Bearer right")
    with pytest.raises(RpcError) as e:
        ReadRpcLedgers(_cfg(server, auth_header="Bearer wrong", retry_limit=3), FIRST, FIRST + 5)
    assert str(e.value) == (
        f"getNetwork for the network passphrase from {server.url}: HTTP 401: the server refused our credentials "
        "(check auth_header)"
    )
    assert len(server.requests) == 1


def test_server_refusal_is_reported_with_its_message_and_not_retried(fake_rpc):
    server = fake_rpc()
    with RpcClient(server.url, retry_limit=3, retry_wait=0.001) as client:
        with pytest.raises(RpcError) as e:
            client.get_ledgers(10, "ledgers 5-14", start=5)
    assert str(e.value) == (
        f"getLedgers for ledgers 5-14 from {server.url}: JSON-RPC error -32600: start ledger (5) must be between "
        f"the oldest ledger: {FIRST} and the latest ledger: {LAST} for this rpc instance"
    )
    assert len(server.requests) == 1


# --- fetching -------------------------------------------------------------------------------


def test_reads_every_ledger_of_the_range_once_in_order(fake_rpc):
    server = fake_rpc()
    start, end = FIRST, FIRST + 62
    blobs, metrics = run_source(ReadRpcLedgers(_cfg(server, chunk_size=25), start, end))
    assert [b.first for b in blobs] == list(range(start, end + 1))
    assert all(b.kind == LEDGER and b.last == b.first for b in blobs)
    assert all(b.origin == f"{server.url} ledger {b.first}" for b in blobs)
    # The bytes are the data store's LedgerCloseMeta of that ledger, unchanged.
    assert all(b.data == server.ledgers[b.first].meta_xdr for b in blobs)
    assert metrics["rpc_ledgers"] == end - start + 1
    assert metrics["rpc_requests"] == len(pipeline_requests(server)) == 3  # one page per chunk
    assert metrics.get("rpc_retries", 0) == 0


def test_pages_start_with_start_ledger_then_follow_the_cursor(fake_rpc):
    server = fake_rpc()
    start, end = FIRST, FIRST + 59
    blobs, metrics = run_source(ReadRpcLedgers(_cfg(server, chunk_size=30, batch_size=7), start, end))
    assert [b.first for b in blobs] == list(range(start, end + 1))
    requests = pipeline_requests(server)
    assert len(requests) == metrics["rpc_requests"] == 2 * 5  # two chunks of 30 in pages of at most 7
    for r in requests:
        assert ("startLedger" in r) != ("cursor" in r["pagination"])  # mutually exclusive
        assert 1 <= r["pagination"]["limit"] <= 7
        assert r["xdrFormat"] == "base64"
    assert sorted(r["startLedger"] for r in requests if "startLedger" in r) == [start, start + 30]
    pages = sorted((covered(r) for r in requests), key=lambda page: page.start)
    assert [s for page in pages for s in page] == list(range(start, end + 1))  # no overlap, no hole


@pytest.mark.parametrize(
    "kind, options",
    [
        ("slow", {"seconds": 1.5}),  # longer than the 0.5 s timeout
        ("429", {"retry_after": "0"}),
        ("500", {}),
        ("truncated", {}),
        ("drop", {}),
    ],
)
def test_transient_faults_are_retried(fake_rpc, kind, options):
    fault = Fault(kind, FIRST + 12, **options)
    server = fake_rpc()
    server.faults = [fault]
    start, end = FIRST, FIRST + 40
    blobs, metrics = run_source(ReadRpcLedgers(_cfg(server, chunk_size=20, timeout=0.5), start, end))
    assert fault.fired == 1
    assert [b.first for b in blobs] == list(range(start, end + 1))
    assert all(b.kind == LEDGER and b.data == server.ledgers[b.first].meta_xdr for b in blobs)
    assert metrics["rpc_retries"] == 1
    assert metrics["rpc_requests"] == len(pipeline_requests(server)) == 3 + 1  # 3 chunks, one request twice


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured(fake_rpc, form):
    server = fake_rpc()
    value = "3" if form == "seconds" else email.utils.formatdate(time.time() + 3, usegmt=True)
    server.faults = [Fault("429", method="getNetwork", retry_after=value)]
    waits: list[float] = []
    with RpcClient(server.url, retry_wait=0.001, sleep=waits.append) as client:
        assert client.get_network()["passphrase"] == TESTNET
    assert len(waits) == 1
    assert 1.5 <= waits[0] <= 3.5  # the server's wish, not the 1 ms backoff


def test_retries_are_bounded_and_the_error_names_the_ledgers(fake_rpc):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server, retry_limit=2), FIRST, FIRST + 22)
    server.faults = [Fault("500", FIRST + 12, times=100)]
    with pytest.raises(RpcError) as e:
        fetch(source, FIRST, FIRST + 22)
    assert str(e.value) == (
        f"getLedgers for ledgers {FIRST}-{FIRST + 22} from {server.url} failed after 3 attempts: "
        "HTTP 500 Internal Server Error"
    )
    assert e.value.ledger == FIRST
    assert len(pipeline_requests(server)) == 3


def test_bounded_retries_in_dead_letter_mode_give_one_error_blob_for_the_chunk(fake_rpc):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server, retry_limit=1, batch_size=10), FIRST, FIRST + 22, on_error="dead_letter")
    server.faults = [Fault("500", FIRST + 12, times=100)]  # the second page fails for good
    blobs = fetch(source, FIRST, FIRST + 22)
    assert [(b.kind, b.first, b.last) for b in blobs] == [(LEDGER, s, s) for s in range(FIRST, FIRST + 10)] + [
        (ERROR, FIRST + 10, FIRST + 22)
    ]
    assert blobs[-1].origin == f"{server.url} ledgers {FIRST + 10}-{FIRST + 22}"
    assert blobs[-1].data.decode() == (
        f"getLedgers for ledgers {FIRST + 10}-{FIRST + 22} from {server.url} failed after 2 attempts: "
        "HTTP 500 Internal Server Error"
    )


BAD = FIRST + 12


def _set_fault(server: FakeRpcServer, fault: str) -> None:
    if fault == "skip":
        server.skip = {BAD}
    elif fault == "wrong_sequence":
        server.wrong_sequence = {BAD}
    else:
        server.bad_xdr = {BAD: fault}


@pytest.mark.parametrize(
    "fault, message",
    [
        ("skip", f"ledger {BAD} missing from the response (it went on with ledger {BAD + 1})"),
        ("wrong_sequence", f"returned ledger {BAD - 1} where ledger {BAD} was expected (repeated or out of order)"),
        ("not_base64", f"ledger {BAD}: metadataXdr is not base64: "),
        (
            "garbage",
            f"ledger {BAD}: metadataXdr is not a LedgerCloseMeta: "
            "LedgerDecodeError: unsupported LedgerCloseMeta version 7",
        ),
    ],
)
@pytest.mark.parametrize("on_error", ["fail", "dead_letter"])
def test_bad_ledgers_are_errors_naming_the_ledger(fake_rpc, fault, message, on_error):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server, retry_limit=3), FIRST, FIRST + 22, on_error=on_error)
    _set_fault(server, fault)
    expected = f"getLedgers from {server.url}: {message}"
    if on_error == "fail":
        with pytest.raises(RpcError) as e:
            fetch(source, FIRST, FIRST + 22)
        assert str(e.value).startswith(expected)
        assert e.value.ledger == BAD
    else:
        blobs = fetch(source, FIRST, FIRST + 22)
        # Every ledger exactly once, in order; the bad one as an error blob that names it.
        assert [b.first for b in blobs] == list(range(FIRST, FIRST + 23))
        assert [b.kind for b in blobs if b.first != BAD] == [LEDGER] * 22
        (bad,) = [b for b in blobs if b.first == BAD]
        assert (bad.kind, bad.last, bad.origin) == (ERROR, BAD, f"{server.url} ledger {BAD}")
        assert bad.data.decode().startswith(expected)
    assert len(pipeline_requests(server)) == 1  # not transient: no retries


def test_a_ledger_missing_at_the_end_of_a_chunk_is_an_error(fake_rpc):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server), FIRST, FIRST + 12)
    server.skip = {BAD}
    with pytest.raises(RpcError) as e:
        fetch(source, FIRST, BAD)
    assert str(e.value) == (
        f"getLedgers from {server.url} returned no ledgers for ledger {BAD} (server holds {FIRST}-{LAST})"
    )
    assert e.value.ledger == BAD


def test_the_fetch_dofn_survives_pickling_and_does_not_print_its_secret(fake_rpc):
    server = fake_rpc()
    source = ReadRpcLedgers(_cfg(server, auth_header="Bearer pickle-secret"), FIRST, FIRST + 3)
    fn = pickler.loads(pickler.dumps(source._fn))
    assert "pickle-secret" not in repr(vars(fn))
    server.require_auth = ("Authorization", "Bearer pickle-secret")
    fn.setup()
    try:
        assert [b.first for b in fn.process(LedgerRange(FIRST, FIRST + 3))] == list(range(FIRST, FIRST + 4))
    finally:
        fn.teardown()


# --- end to end -----------------------------------------------------------------------------


def rpc_job(server: FakeRpcServer, start: int, end: int, out: Path, tables: list[str], **source) -> dict:
    cfg = job_config("unused", start, end, out, tables=tables)
    src = {"rpc_url": server.url, "start_ledger": start, "end_ledger": end, "retry_wait": 0.01, "timeout": 5}
    src.update(source)
    cfg["pipeline"]["source"] = {"type": "rpc", "config": src}
    return cfg


def _sorted_rows(table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: json.dumps(r, sort_keys=True, default=str))


def test_rpc_and_datastore_sources_write_identical_rows(fake_rpc, tmp_path):
    server = fake_rpc()
    start, end = FIRST, FIRST + 62
    tables = ["ledgers", "transactions", "operations"]
    from_store, from_rpc = tmp_path / "datastore", tmp_path / "rpc"
    assert run_job(job_config(datastore("testnet-p19-lpf64"), start, end, from_store, tables=tables), tmp_path) == 0
    rpc_cfg = rpc_job(server, start, end, from_rpc, tables, batch_size=9, chunk_size=20, network="testnet")
    assert run_job(rpc_cfg, tmp_path) == 0
    assert len(pipeline_requests(server)) == 3 * 3 + 1  # chunks of 20 (pages 9+9+2) and one of 3
    for table in tables:
        a, b = read_table(from_store, table), read_table(from_rpc, table)
        assert a.num_rows > 0, table
        assert a.schema == b.schema, table
        assert _sorted_rows(a) == _sorted_rows(b), table
    assert read_table(from_rpc, "ledgers").num_rows == end - start + 1


def test_a_skipped_ledger_fails_the_run_naming_it(fake_rpc, tmp_path, capsys):
    server = fake_rpc()
    server.skip = {BAD}
    code = run_job(rpc_job(server, FIRST, FIRST + 20, tmp_path / "out", ["ledgers"]), tmp_path)
    assert code == 1
    err = capsys.readouterr().err
    assert f"getLedgers from {server.url}: ledger {BAD} missing from the response" in err


def test_bad_ledgers_become_dead_letters_naming_them(fake_rpc, tmp_path):
    server = fake_rpc()
    server.skip = {BAD}
    server.bad_xdr = {BAD + 3: "truncated"}  # decodes as far as its header: caught by the decode step
    out = tmp_path / "out"
    cfg = rpc_job(server, FIRST, FIRST + 20, out, ["ledgers"])
    cfg["pipeline"]["on_error"] = "dead_letter"
    assert run_job(cfg, tmp_path) == 3
    (dead_file,) = glob.glob(f"{out}/_dead_letter/*.parquet")
    dead = sorted(pq.read_table(dead_file).to_pylist(), key=lambda r: r["unit"])
    assert [d["unit"] for d in dead] == [f"{server.url} ledger {BAD}", f"{server.url} ledger {BAD + 3}"]
    assert f"ledger {BAD} missing from the response" in dead[0]["message"]
    assert f"ledger {BAD + 3}: undecodable LedgerCloseMeta XDR" in dead[1]["message"]
    assert dead[1]["ledger"] == BAD + 3
    written = sorted(read_table(out, "ledgers").column("sequence").to_pylist())
    assert written == [s for s in range(FIRST, FIRST + 21) if s not in (BAD, BAD + 3)]


SENTINEL = "S3NT1NEL-" + uuid.uuid4().hex


def test_credentials_appear_in_no_log_message_summary_or_file(fake_rpc, tmp_path, capsys, monkeypatch):
    server = fake_rpc()
    monkeypatch.setenv("TEST_RPC_AUTH", f"Bearer {SENTINEL}-header")
    server.require_auth = ("Authorization", f"Bearer {SENTINEL}-header")  # proves the header is sent
    server.faults = [Fault("500", FIRST + 5)]  # a retry, so that a warning naming the URL is logged
    url = f"{server.url}?apikey={SENTINEL}-query"
    out = tmp_path / "out"
    cfg = rpc_job(server, FIRST, FIRST + 10, out, ["ledgers"], rpc_url=url, auth_header="${TEST_RPC_AUTH}")
    assert run_job(cfg, tmp_path) == 0
    assert server.faults[0].fired == 1
    ok = capsys.readouterr()
    # A failing run too: its error message and logs must not carry the secrets either.
    server.skip = {FIRST + 7}
    assert run_job(cfg, tmp_path, "--output_path", str(tmp_path / "failed")) == 1
    failed = capsys.readouterr()
    assert f"ledger {FIRST + 7} missing" in failed.err
    for text in (ok.out, ok.err, failed.out, failed.err):
        assert SENTINEL not in text
    assert "retry 1/" in ok.err  # the retry was logged (the check above looked at a real log)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any("_manifests" in str(p) for p in files)
    for p in files:
        assert SENTINEL.encode() not in p.read_bytes(), p


def test_client_errors_and_logs_do_not_carry_url_secrets(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: connections are refused
    url = f"http://user:{SENTINEL}@127.0.0.1:{port}/rpc?key={SENTINEL}"
    caplog.set_level(logging.WARNING)
    with RpcClient(url, auth_header=f"Bearer {SENTINEL}", retry_limit=1, sleep=lambda s: None) as client:
        with pytest.raises(RpcError) as e:
            client.get_latest_ledger()
    assert str(e.value).startswith(
        f"getLatestLedger for the latest ledger from http://127.0.0.1:{port}/rpc failed after 2 attempts: "
        "connection failed: "
    )
    assert SENTINEL not in str(e.value)
    assert "retry 1/1" in caplog.text
    assert SENTINEL not in caplog.text

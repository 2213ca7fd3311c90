"""A hostile RPC server: it drips its answer, echoes the bare token, or gzips a bomb; and a debug run's
third-party logs. Every wait ends with an error naming what it waited for, and no secret is shown."""

from __future__ import annotations

import gzip
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest

from beam_pipeline.sources.rpc_client import RpcClient, RpcError
from beam_pipeline.util import secrets
from tests.fakes.rpc_server import Fault
from tests.harness import run_job
from tests.sources.test_rpc import FIRST, rpc_job

SENTINEL = "T0KEN" + uuid.uuid4().hex


@pytest.mark.timeout(60)
def test_a_dripping_server_is_cut_at_the_request_deadline(fake_rpc):
    """Each byte comes within the per-read timeout, so only a total deadline ends the request."""
    server = fake_rpc()
    server.faults = [Fault("drip", method="getLatestLedger", seconds=0.2, times=5)]
    with RpcClient(server.url, timeout=1, deadline=1.5, retry_limit=1, sleep=lambda s: None) as client:
        with pytest.raises(RpcError) as e:
            client.get_latest_ledger()
    assert str(e.value) == (
        f"getLatestLedger for the latest ledger from {server.url} failed after 2 attempts: no complete response "
        "within the request deadline of 1.5s (the server was still sending)"
    )
    assert server.faults[0].fired == 2


@pytest.mark.timeout(120)
def test_a_run_against_a_dripping_server_ends_with_an_error_naming_the_ledgers(fake_rpc, tmp_path, capsys):
    server = fake_rpc()
    server.faults = [Fault("drip", FIRST + 3, seconds=0.2, times=10)]
    cfg = rpc_job(server, FIRST, FIRST + 5, tmp_path / "out", ["ledgers"], timeout=1, request_deadline=1.5,
                  retry_limit=1)
    capsys.readouterr()
    assert run_job(cfg, tmp_path) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert f"getLedgers for ledgers {FIRST}-{FIRST + 5} from {server.url}" in last
    assert "no complete response within the request deadline of 1.5s" in last


@pytest.mark.timeout(120)
def test_a_token_echoed_bare_in_an_error_body_is_redacted_everywhere(fake_rpc, tmp_path, capsys, monkeypatch):
    """The config says "Bearer <token>"; the server's error says just "<token>". Neither stderr nor the
    dead-letter table may carry it, in either error mode."""
    server = fake_rpc()
    monkeypatch.setenv("TEST_RPC_AUTH", f"Bearer {SENTINEL}")
    out = tmp_path / "out"
    cfg = rpc_job(server, FIRST, FIRST + 5, out, ["ledgers"], auth_header="${TEST_RPC_AUTH}", retry_limit=0)
    cfg["pipeline"]["on_error"] = "dead_letter"
    server.faults = [Fault("echo_token", FIRST + 2)]
    capsys.readouterr()
    assert run_job(cfg, tmp_path) == 3
    dead = capsys.readouterr()
    assert server.faults[0].fired == 1
    (dl,) = (out / "_dead_letter").glob("*.parquet")
    (row,) = pq.read_table(dl).to_pylist()
    assert "JSON-RPC error -32600: invalid api key <redacted>" in row["message"]  # the message is kept, not its secret
    cfg["pipeline"]["on_error"] = "fail"
    server.faults = [Fault("echo_token", FIRST + 2)]
    assert run_job(cfg, tmp_path, "--output_path", str(tmp_path / "failed")) == 1
    failed = capsys.readouterr()
    assert "invalid api key <redacted>" in failed.err
    for text in (dead.out, dead.err, failed.out, failed.err):
        assert SENTINEL not in text
    for p in [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".yaml"]:
        assert SENTINEL.encode() not in p.read_bytes(), p


@pytest.mark.timeout(120)
def test_debug_logs_of_urllib3_do_not_show_an_apikey_in_the_url(fake_rpc, tmp_path, capsys):
    server = fake_rpc()
    cfg = rpc_job(server, FIRST, FIRST + 3, tmp_path / "out", ["ledgers"], rpc_url=f"{server.url}?apikey={SENTINEL}")
    cfg["pipeline"]["consumers"][0]["config"]["debug"] = True
    capsys.readouterr()
    try:
        assert run_job(cfg, tmp_path) == 0
    finally:
        logging.basicConfig(level=logging.WARNING, force=True)  # later tests are not in debug mode
    err = capsys.readouterr().err
    assert "urllib3.connectionpool" in err and '"POST /?<redacted> HTTP/1.1" 200' in err  # the line was logged
    assert SENTINEL not in err


def test_the_redacting_filter_covers_records_of_any_logger(caplog):
    """The filter sits on the root handlers, so a third-party logger's record is redacted too."""
    secrets.register(secrets.url_secrets(f"https://u:{SENTINEL}@s3.example/?X-Amz-Signature={SENTINEL}2"))
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        secrets.protect_logging()
        assert secrets.RedactingFilter in {type(f) for f in handler.filters}
        record = logging.LogRecord("botocore.endpoint", logging.DEBUG, __file__, 1,
                                   "Sending https://u:%s@s3.example/?X-Amz-Signature=%s2", (SENTINEL, SENTINEL), None)
        handler.filter(record)
        assert record.getMessage() == "Sending https://<redacted>@s3.example/?<redacted>"
    finally:
        logging.getLogger().removeHandler(handler)


# --- a compressed body is bounded like every other compressed input ---------------------------------


class _GzipBomb(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = gzip.compress(b" " * (64 << 20), compresslevel=9)

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def test_a_gzip_body_is_decompressed_through_the_bounded_decompressor(monkeypatch):
    from beam_pipeline.sources import rpc_client

    monkeypatch.setattr(rpc_client, "MAX_RESPONSE_BYTES", 1 << 20)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _GzipBomb)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        with RpcClient(url, retry_limit=0) as client:
            with pytest.raises(RpcError) as e:
                client.get_latest_ledger()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert str(e.value) == (
        f"getLatestLedger for the latest ledger: getLatestLedger response from {url}: decompresses to more than "
        f"{1 << 20} bytes; refused"
    )

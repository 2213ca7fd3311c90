"""A local fake Stellar RPC server that serves real ledgers from a SEP-54 data store.

It answers ``getNetwork``, ``getLatestLedger`` and ``getLedgers`` the way stellar-rpc does (same
field names and types, ``startLedger`` xor ``cursor``, the retention-window refusal, the cursor =
last ledger sent), from the LedgerCloseMetaBatch objects of a ``../shared/ledgers`` data store
split into per-ledger LedgerCloseMeta XDR. Faults are injected per test:

- per request (`Fault`): a slow answer, HTTP 429 with Retry-After, HTTP 500, a truncated JSON
  body, a dropped connection, a body dripped one byte at a time (`drip`: each read succeeds, the
  response never ends), a JSON-RPC error quoting the bare bearer token (`echo_token`); aimed at the
  getLedgers page that covers a ledger;
- per ledger: left out of pages (`skip`), replaced by its predecessor (`wrong_sequence`), or
  served with bad metadata (`bad_xdr`: ``not_base64``, ``garbage``, ``truncated``);
- an auth header the server requires (`require_auth`), answered with 401 otherwise;
- a chain head held back (`hold(sequence)`, later `release()`): the server then answers as if the
  network had closed nothing newer, so a tail waits there (what a streaming test needs to observe
  processing-time panes before the job can end).

Start it with the `fake_rpc` fixture (a factory) or as a context manager; it binds 127.0.0.1 on a
free port, serves from a daemon thread and is stopped (with any slow handlers released) on exit.
"""

from __future__ import annotations

import base64
import functools
import glob
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import zstandard
from stellar_sdk import xdr
from xdrlib3 import Unpacker

DEFAULT_LIMIT = 50  # stellar-rpc's default getLedgers page
MAX_LIMIT = 200  # stellar-rpc's maximum getLedgers page
TRANSIENT_KINDS = ("slow", "429", "500", "truncated", "drop", "drip", "echo_token")
BAD_XDR_KINDS = ("not_base64", "garbage", "truncated")


@dataclass(frozen=True)
class ServedLedger:
    sequence: int
    hash: str
    close_time: int
    header_xdr: bytes
    meta_xdr: bytes


@dataclass
class Fault:
    """A transient failure for the next `times` matching requests.

    A getLedgers request matches when its page would start at or before `ledger` and reach it
    (``ledger=None``: any request of `method`), so faults hit the pipeline's fetches and not
    the source's construction-time probe.
    """

    kind: str
    ledger: int | None = None
    times: int = 1
    method: str = "getLedgers"
    seconds: float = 2.0  # for "slow"; for "drip", the pause before each byte of the body
    retry_after: str | None = "1"  # for "429"
    fired: int = 0

    def __post_init__(self):
        if self.kind not in TRANSIENT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {TRANSIENT_KINDS}")


@dataclass
class RequestLog:
    method: str
    params: dict
    headers: dict


@functools.lru_cache(maxsize=8)
def load_datastore(root: str) -> tuple[str, dict[int, ServedLedger]]:
    """(passphrase, ledgers by sequence) from every object of a SEP-54 data store."""
    with open(os.path.join(root, ".config.json")) as f:
        passphrase = json.load(f)["networkPassphrase"]
    ledgers: dict[int, ServedLedger] = {}
    paths = glob.glob(os.path.join(root, "**", "*.xdr.zst"), recursive=True)
    paths += glob.glob(os.path.join(root, "**", "*.xdr.zstd"), recursive=True)
    for path in sorted(paths):
        with open(path, "rb") as f:
            raw = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
        u = Unpacker(raw)
        u.unpack_uint()  # startSequence
        u.unpack_uint()  # endSequence
        for _ in range(u.unpack_uint()):
            at = u.get_position()
            lcm = xdr.LedgerCloseMeta.unpack(u)
            body = {0: lcm.v0, 1: lcm.v1, 2: lcm.v2}[lcm.v]
            entry = body.ledger_header
            seq = entry.header.ledger_seq.uint32
            ledgers[seq] = ServedLedger(
                seq,
                entry.hash.hash.hex(),
                entry.header.scp_value.close_time.time_point.uint64,
                entry.to_xdr_bytes(),
                raw[at : u.get_position()],
            )
    if not ledgers:
        raise FileNotFoundError(f"no ledger objects under {root}")
    return passphrase, ledgers


class FakeRpcServer:
    """The server; tests set its fault fields before the code under test makes requests."""

    def __init__(self, datastore_root: str, passphrase: str | None = None):
        served_passphrase, self.ledgers = load_datastore(str(datastore_root))
        self.passphrase = passphrase or served_passphrase
        self.oldest = min(self.ledgers)
        self.latest = max(self.ledgers)
        self.faults: list[Fault] = []
        self.skip: set[int] = set()
        self.wrong_sequence: set[int] = set()
        self.bad_xdr: dict[int, str] = {}
        self.require_auth: tuple[str, str] | None = None  # (header name, value)
        self.requests: list[RequestLog] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-rpc", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> FakeRpcServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers sleeping in a "slow" fault
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeRpcServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hold(self, sequence: int) -> None:
        """Serves the chain only up to `sequence` (getLatestLedger and pages stop there)."""
        if not self.oldest <= sequence <= max(self.ledgers):
            raise ValueError(f"hold at {sequence}: outside the served ledgers {self.oldest}-{max(self.ledgers)}")
        self.latest = sequence

    def release(self) -> None:
        """Serves every ledger again, as if the network had closed them all meanwhile."""
        self.latest = max(self.ledgers)

    def ledger_requests(self) -> list[dict]:
        return [r.params for r in self.requests if r.method == "getLedgers"]

    # --- request handling (called from handler threads) ----------------------------------------

    def _take_fault(self, method: str, params: dict) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.fired >= fault.times or fault.method != method:
                    continue
                if fault.ledger is not None and not _page_covers(params, fault.ledger):
                    continue
                fault.fired += 1
                return fault
        return None

    def dispatch(self, method: str, params: dict) -> dict:
        """The JSON-RPC result, or raises _RpcFailure with the error stellar-rpc would give."""
        if method == "getNetwork":
            return {"friendbotUrl": "", "passphrase": self.passphrase, "protocolVersion": 22}
        if method == "getLatestLedger":
            top = self.ledgers[self.latest]
            return {
                "id": top.hash,
                "protocolVersion": 22,
                "sequence": top.sequence,
                "closeTime": str(top.close_time),
                "headerXdr": base64.b64encode(top.header_xdr).decode(),
                "metadataXdr": base64.b64encode(top.meta_xdr).decode(),
            }
        if method == "getLedgers":
            return self._get_ledgers(params)
        raise _RpcFailure(-32601, "method not found")

    def _get_ledgers(self, params: dict) -> dict:
        start = params.get("startLedger", 0)
        pagination = params.get("pagination") or {}
        cursor = pagination.get("cursor", "")
        limit = pagination.get("limit") or DEFAULT_LIMIT
        window = f"the oldest ledger: {self.oldest} and the latest ledger: {self.latest} for this rpc instance"
        if params.get("xdrFormat", "base64") not in ("", "base64"):
            raise _RpcFailure(-32600, "this fake serves xdrFormat base64 only")
        if cursor:
            if start:
                raise _RpcFailure(-32600, f"startLedger ({start}) and cursor ({cursor}) cannot both be set")
            if limit > MAX_LIMIT:
                raise _RpcFailure(-32600, f"limit must not exceed {MAX_LIMIT}")
            first = int(cursor) + 1
            if not self.oldest <= first <= self.latest:
                raise _RpcFailure(-32602, f"cursor ('{cursor}') must be between {window}")
        else:
            if not self.oldest <= start <= self.latest:
                raise _RpcFailure(-32600, f"start ledger ({start}) must be between {window}")
            if limit > MAX_LIMIT:
                raise _RpcFailure(-32600, f"limit must not exceed {MAX_LIMIT}")
            first = start
        page = []
        for seq in range(first, min(first + limit - 1, self.latest) + 1):
            if seq in self.skip:
                continue
            served = self.ledgers[seq - 1] if seq in self.wrong_sequence else self.ledgers[seq]
            page.append(_ledger_info(served, self.bad_xdr.get(seq)))
        top, bottom = self.ledgers[self.latest], self.ledgers[self.oldest]
        return {
            "ledgers": page,
            "latestLedger": top.sequence,
            "latestLedgerCloseTime": top.close_time,
            "oldestLedger": bottom.sequence,
            "oldestLedgerCloseTime": bottom.close_time,
            "cursor": str(page[-1]["sequence"]) if page else (cursor or str(first - 1)),
        }


class _RpcFailure(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _page_covers(params: dict, ledger: int) -> bool:
    pagination = params.get("pagination") or {}
    first = int(pagination["cursor"]) + 1 if pagination.get("cursor") else params.get("startLedger", 0)
    limit = pagination.get("limit") or DEFAULT_LIMIT
    return first <= ledger < first + limit


def _ledger_info(served: ServedLedger, bad: str | None) -> dict:
    meta = base64.b64encode(served.meta_xdr).decode()
    if bad == "not_base64":
        meta = "!!" + meta[2:]
    elif bad == "garbage":
        meta = base64.b64encode(b"\x00\x00\x00\x07" + b"\xab" * 64).decode()
    elif bad == "truncated":
        meta = base64.b64encode(served.meta_xdr[: len(served.meta_xdr) // 2]).decode()
    elif bad is not None:
        raise ValueError(f"unknown bad_xdr kind {bad!r}; known: {BAD_XDR_KINDS}")
    return {
        "hash": served.hash,
        "sequence": served.sequence,
        "ledgerCloseTime": str(served.close_time),
        "headerXdr": base64.b64encode(served.header_xdr).decode(),
        "metadataXdr": meta,
    }


def _handler_for(server: FakeRpcServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass  # the test output stays quiet; `server.requests` records what matters

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                request = json.loads(body)
                method, params, rid = request["method"], request.get("params") or {}, request.get("id")
            except (ValueError, KeyError, TypeError):
                self._send(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
                return
            with server._lock:
                server.requests.append(RequestLog(method, params, dict(self.headers.items())))
            if server.require_auth is not None:
                name, value = server.require_auth
                if self.headers.get(name) != value:
                    self._send(401, {"error": "unauthorized"})
                    return
            fault = server._take_fault(method, params)
            if fault is not None and fault.kind == "slow":
                server._stopping.wait(fault.seconds)
            elif fault is not None and fault.kind == "429":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                self._send(429, {"error": "rate limited"}, headers)
                return
            elif fault is not None and fault.kind == "500":
                self._send(500, {"error": "internal"})
                return
            elif fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            try:
                payload = {"jsonrpc": "2.0", "id": rid, "result": server.dispatch(method, params)}
            except _RpcFailure as e:
                payload = {"jsonrpc": "2.0", "id": rid, "error": {"code": e.code, "message": e.message}}
            if fault is not None and fault.kind == "echo_token":
                # A provider's error body quoting the credential it refused, without "Bearer ".
                token = (self.headers.get("Authorization") or "").split()[-1:]
                payload = {"jsonrpc": "2.0", "id": rid,
                           "error": {"code": -32600, "message": f"invalid api key {''.join(token)}"}}
            data = json.dumps(payload).encode()
            if fault is not None and fault.kind == "truncated":
                data = data[: len(data) // 2]
            if fault is not None and fault.kind == "drip":
                self._drip(data, fault.seconds)
                return
            self._send_bytes(200, data)

        def _drip(self, data: bytes, pause: float) -> None:
            """Headers at once, then the body one byte per `pause`: every read succeeds, none finishes."""
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.flush()
                for i in range(len(data)):
                    if server._stopping.wait(pause):
                        return
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what a deadline is for

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._send_bytes(status, json.dumps(payload).encode(), headers)

        def _send_bytes(self, status: int, data: bytes, headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

    return Handler


@pytest.fixture
def fake_rpc(shared_ledgers) -> Iterator:
    """A factory: ``fake_rpc("testnet-p19-lpf64")`` starts a server; all are stopped after the test."""
    from tests.harness import datastore

    started: list[FakeRpcServer] = []

    def start(name: str = "testnet-p19-lpf64", **kwargs) -> FakeRpcServer:
        server = FakeRpcServer(datastore(name), **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


__all__ = ["Fault", "FakeRpcServer", "fake_rpc", "load_datastore"]

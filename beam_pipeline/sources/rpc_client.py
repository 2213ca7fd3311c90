"""A small JSON-RPC client for the Stellar RPC methods the archive needs.

    getNetwork       -> the network passphrase (checked against the config)
    getLatestLedger  -> the newest ledger, to probe the retention window
    getLedgers       -> pages of LedgerCloseMeta, by ``startLedger`` then by ``cursor``

Transient failures (timeouts, dropped connections, HTTP 429 and 5xx, a body that is not JSON,
JSON-RPC internal errors) are retried with exponential backoff and jitter, honouring
``Retry-After``; after ``retry_limit`` retries the call fails with an `RpcError` that names the
ledgers it was fetching. Everything else (HTTP 4xx, invalid params, a result of the wrong shape)
fails at once: retrying a request the server has understood and refused only wastes time.

Credentials never reach a message: the URL is shown without userinfo, query or fragment, and
every text that leaves this module (errors, log lines) is scrubbed of the URL's secret parts and
of the auth header's value, because exception texts from ``requests`` quote the full URL.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from beam_pipeline.util.errors import first_line
from beam_pipeline.util.secrets import header_secrets, url_secrets
from beam_pipeline.util.secrets import register as register_secrets
from beam_pipeline.util.urls import redact_url
from beam_pipeline.xdr import compression

log = logging.getLogger(__name__)

MAX_PAGE = 200  # stellar-rpc's maximum getLedgers page (`max-ledgers-limit`)
DEFAULT_DEADLINE_S = 300.0  # the config's request_deadline default
MAX_RESPONSE_BYTES = 2 << 30  # 200 pubnet ledgers of base64 metadata stay far below; more is hostile
_READ_PIECE = 1 << 20
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 300.0  # a server asking for longer than this is treated as asking for this
_HEADER_FORM = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+(\S.*)$")
# JSON-RPC codes worth retrying: internal error and the implementation-defined server errors.
_TRANSIENT_RPC_CODES = {-32603} | set(range(-32099, -32000 + 1))


class RpcError(Exception):
    """A Stellar RPC call failed for good; the message names the server (no credentials) and ledgers.

    Attributes:
        ledger: the first ledger the failure concerns, when there is one (for dead letters).
    """

    def __init__(self, message: str, ledger: int | None = None):
        super().__init__(message)
        self.ledger = ledger


class _Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's requested wait in seconds."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def auth_headers(auth_header: str | None) -> dict[str, str]:
    """``"Name: value"`` sets header Name; any other value is sent as ``Authorization``.

    The second form covers the usual ``Bearer <token>`` / ``Basic <b64>``; the first lets a
    provider's key header (``X-API-Key: ...``) be configured through the same single secret.
    """
    if not auth_header:
        return {}
    m = _HEADER_FORM.match(auth_header.strip())
    if m:
        return {m.group(1): m.group(2)}
    return {"Authorization": auth_header.strip()}


class Secret:
    """A string that never shows itself in repr/str (so not in logs, display data or tracebacks)."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value

    def reveal(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "<redacted>" if self._value else "None"

    __str__ = __repr__

    def __getstate__(self):
        return (self._value,)  # a tuple: pickle skips __setstate__ for a falsy state such as None

    def __setstate__(self, state):
        (self._value,) = state


class _Scrubber:
    """Removes the URL's secret parts and the auth value from any text before it is shown.

    By value, including the bare token of ``Bearer <token>`` (servers echo it alone in error
    bodies); the same values go to this process's registry (`util.secrets`), so log lines of
    urllib3 and requests are redacted too.
    """

    def __init__(self, url: str, auth_header: str | None):
        parts = urlsplit(url)
        secrets = [url, parts.query, parts.fragment, parts.username or "", parts.password or ""]
        secrets += list(auth_headers(auth_header).values()) + [auth_header or ""]
        secrets += url_secrets(url) + header_secrets(auth_header)
        register_secrets(url_secrets(url) + header_secrets(auth_header))
        # Longest first, so that the whole URL is replaced before its pieces.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self._safe_url = redact_url(url)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, self._safe_url if s.startswith(("http://", "https://")) else "<redacted>")
        return text


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class RpcClient:
    """JSON-RPC over one `requests.Session`; create it in ``DoFn.setup()``, close it in ``teardown()``.

    Args:
        url: the RPC endpoint (may hold credentials in userinfo or query; they are never shown).
        auth_header: sent with every request (see `auth_headers`); never shown.
        timeout: seconds for connecting and for each read.
        deadline: seconds one attempt may take in total, response body included: a server that
            drips bytes (each read within `timeout`) is cut off here, and the attempt is a timeout.
        retry_limit: retries after the first attempt of a call (0 = one attempt).
        retry_wait: base of the exponential backoff, in seconds.
        on_request / on_retry: called once per HTTP attempt / per retry (Beam counters).
        sleep: how to wait between attempts (tests record instead of sleeping).
    """

    def __init__(
        self,
        url: str,
        auth_header: str | None = None,
        timeout: float = 30.0,
        retry_limit: int = 5,
        retry_wait: float = 1.0,
        on_request: Callable[[], None] | None = None,
        on_retry: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float = DEFAULT_DEADLINE_S,
    ):
        self._url = url
        self.safe_url = redact_url(url)
        self._scrub = _Scrubber(url, auth_header)
        self._timeout = timeout
        self._deadline = deadline
        self._retry_limit = retry_limit
        self._retry_wait = retry_wait
        self._on_request = on_request or (lambda: None)
        self._on_retry = on_retry or (lambda: None)
        self._sleep = sleep
        self._ids = 0
        self._session = requests.Session()
        self._in_flight = _InFlight()
        adapter = _deadline_adapter(self._in_flight)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # Bodies are decompressed by xdr.compression (bounded), never by urllib3 on its own.
        self._session.headers.update(
            {"Content-Type": "application/json", "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        )
        self._session.headers.update(auth_headers(auth_header))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- methods ---------------------------------------------------------------------------

    def get_network(self) -> dict:
        return self.call("getNetwork", {}, "the network passphrase")

    def get_latest_ledger(self) -> dict:
        return self.call("getLatestLedger", {}, "the latest ledger")

    def get_ledgers(self, limit: int, what: str, start: int | None = None, cursor: str | None = None) -> dict:
        """One getLedgers page; exactly one of `start` and `cursor` (the server refuses both)."""
        if (start is None) == (cursor is None):
            raise ValueError("get_ledgers needs exactly one of start and cursor")
        pagination: dict[str, Any] = {"limit": min(limit, MAX_PAGE)}
        params: dict[str, Any] = {"pagination": pagination, "xdrFormat": "base64"}
        if start is not None:
            params["startLedger"] = start
        else:
            pagination["cursor"] = cursor
        result = self.call("getLedgers", params, what)
        if not isinstance(result.get("ledgers"), list):
            raise RpcError(f"getLedgers for {what} from {self.safe_url}: the result has no 'ledgers' list")
        return result

    # --- transport -------------------------------------------------------------------------

    def call(self, method: str, params: dict, what: str) -> dict:
        """Calls `method` with bounded retries of transient failures; `what` names the request in errors."""
        attempt = 0
        while True:
            try:
                return self._attempt(method, params, what)
            except _Transient as e:
                reason = self._scrub(str(e))
                if attempt >= self._retry_limit:
                    raise RpcError(
                        f"{method} for {what} from {self.safe_url} failed after {attempt + 1} attempts: {reason}"
                    ) from None
                attempt += 1
                self._on_retry()
                wait = min(MAX_BACKOFF_S, self._retry_wait * (2 ** (attempt - 1)) * (0.5 + random.random()))
                if e.retry_after is not None:
                    wait = max(wait, min(e.retry_after, MAX_RETRY_AFTER_S))
                log.warning(
                    "%s for %s from %s: %s; retry %d/%d in %.2fs",
                    method,
                    what,
                    self.safe_url,
                    reason,
                    attempt,
                    self._retry_limit,
                    wait,
                )
                self._sleep(wait)

    def _attempt(self, method: str, params: dict, what: str) -> dict:
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}
        self._on_request()
        watchdog = threading.Timer(self._deadline, self._in_flight.cut)
        watchdog.daemon = True
        self._in_flight.expired = False
        watchdog.start()
        try:
            resp = self._session.post(self._url, data=json.dumps(body), timeout=self._timeout, stream=True)
            try:
                content = self._read_body(resp, method, what)
            finally:
                resp.close()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            if self._in_flight.expired:
                raise _Transient(
                    f"no complete response within the request deadline of {self._deadline:g}s "
                    "(the server was still sending)"
                ) from None
            if isinstance(e, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
                raise _Transient(f"no response within {self._timeout:g}s") from None
            if isinstance(e, (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError)):
                raise _Transient(f"connection failed: {first_line(e)}") from None
            raise RpcError(
                f"{method} for {what} from {self.safe_url}: request failed: {self._scrub(first_line(e))}"
            ) from None
        finally:
            watchdog.cancel()
        status = resp.status_code
        if status == 429:
            raise _Transient("HTTP 429 Too Many Requests", _retry_after(resp.headers.get("Retry-After")))
        if status >= 500:
            raise _Transient(
                f"HTTP {status} {resp.reason or ''}".strip(), _retry_after(resp.headers.get("Retry-After"))
            )
        if status in (401, 403):
            raise RpcError(
                f"{method} for {what} from {self.safe_url}: HTTP {status}: the server refused our credentials "
                "(check auth_header)"
            )
        if status >= 400:
            raise RpcError(f"{method} for {what} from {self.safe_url}: HTTP {status} {resp.reason or ''}".rstrip())
        try:
            payload = json.loads(content)
        except (ValueError, UnicodeDecodeError) as e:
            raise _Transient(f"malformed JSON response ({len(content)} bytes): {e}") from None
        if not isinstance(payload, dict):
            raise _Transient(f"malformed JSON-RPC response: expected an object, got {type(payload).__name__}")
        error = payload.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            text = f"JSON-RPC error {code}: {message}"
            if code in _TRANSIENT_RPC_CODES:
                raise _Transient(text)
            raise RpcError(f"{method} for {what} from {self.safe_url}: {self._scrub(text)}")
        result = payload.get("result")
        if not isinstance(result, dict):
            raise RpcError(f"{method} for {what} from {self.safe_url}: the response has no result object")
        return result


    def _read_body(self, resp: requests.Response, method: str, what: str) -> bytes:
        """The whole body, read piece by piece against the deadline and a size bound, then decompressed.

        urllib3 would inflate gzip on its own without a bound; here the raw bytes are read and
        `xdr.compression.decompress` applies the same bound as to every other compressed input.
        """
        pieces, size = [], 0
        while True:
            if self._in_flight.expired:
                raise TimeoutError("request deadline")
            piece = resp.raw.read1(_READ_PIECE, decode_content=False)
            if not piece:
                break
            size += len(piece)
            if size > MAX_RESPONSE_BYTES:
                raise RpcError(
                    f"{method} for {what} from {self.safe_url}: response larger than {MAX_RESPONSE_BYTES} bytes; "
                    "refused"
                )
            pieces.append(piece)
        data = b"".join(pieces)
        encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("", "identity"):
            return data
        try:
            return compression.decompress(data, f"{method} response from {self.safe_url}", MAX_RESPONSE_BYTES, encoding)
        except compression.DecompressionError as e:
            raise RpcError(f"{method} for {what}: {e}") from None


class _InFlight:
    """The connection of the request in flight, so that a watchdog can cut it at the deadline.

    A per-read timeout cannot stop a server that sends one byte just before each read would
    time out; shutting the socket down wakes the blocked read at once, whatever phase it is in.
    """

    def __init__(self):
        self.conn = None
        self.expired = False

    def cut(self) -> None:
        self.expired = True
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the request ended as the deadline passed


def _deadline_adapter(in_flight: _InFlight) -> HTTPAdapter:
    """An HTTPAdapter whose connections tell `in_flight` when they start a request."""

    def track(base):
        class Tracked(base):
            def request(self, *args, **kwargs):
                in_flight.conn = self
                return super().request(*args, **kwargs)

        return Tracked

    class Pool(HTTPConnectionPool):
        ConnectionCls = track(HTTPConnectionPool.ConnectionCls)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = track(HTTPSConnectionPool.ConnectionCls)

    adapter = HTTPAdapter()
    adapter.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}
    return adapter

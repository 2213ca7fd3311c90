"""Source: a Stellar RPC server's ``getLedgers`` (config ``type: rpc``).

    ListChunks (the range cut into chunk_size pieces) -> Reshuffle -> FetchChunks (getLedgers pages)

Construction asks the server for its network passphrase (and checks it against ``network``) and
for its retention window (``oldestLedger``..``latestLedger``), so a wrong network or a range the
server no longer (or not yet) holds fails before any Beam work. Each chunk is fetched page by page
(``startLedger`` first, then the server's ``cursor``) and every ledger is checked against the
sequence it must have: a missing, repeated or foreign ledger, or metadata that is not base64 XDR of
that ledger, is an error naming the ledger, never a silent skip. With ``on_error: dead_letter``
such a ledger (or a chunk the server would not serve) becomes a ``kind="error"`` blob instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from beam_pipeline import DEAD_LETTER
from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import RpcSourceConfig
from beam_pipeline.sources.base import ERROR, LEDGER, LedgerBlob
from beam_pipeline.sources.rpc_client import DEFAULT_DEADLINE_S, RpcClient, RpcError, Secret
from beam_pipeline.sources.rpc_pages import Problem, account_page, ledgers_text, metadata, page_error, retention_window

log = logging.getLogger(__name__)



class LedgerRange(NamedTuple):
    """An inclusive range of ledgers: one unit of parallel fetching."""

    first: int
    last: int


def split_range(start: int, end: int, chunk_size: int) -> list[LedgerRange]:
    """Consecutive, non-overlapping chunks covering exactly start..end."""
    return [LedgerRange(a, min(end, a + chunk_size - 1)) for a in range(start, end + 1, chunk_size)]


class RpcDoFn(beam.DoFn):
    """A DoFn that talks to one RPC server: the client is made in setup() and closed in teardown().

    Only plain settings are pickled; the auth header travels wrapped in `Secret` so that it never
    prints (repr, display data, tracebacks).
    """

    def __init__(
        self,
        url: str,
        auth_header: Secret,
        batch_size: int,
        timeout: float,
        retry_limit: int,
        retry_wait: float,
        on_error: str,
        client_factory: Callable[..., RpcClient] | None = None,
        request_deadline: float = DEFAULT_DEADLINE_S,
    ):
        self._url = url
        self._deadline = request_deadline
        self._auth = auth_header
        self._batch_size = batch_size
        self._timeout = timeout
        self._retry_limit = retry_limit
        self._retry_wait = retry_wait
        self._on_error = on_error
        self._client_factory = client_factory  # tests inject a fake; None = the real RpcClient
        self._requests = Metrics.counter(NAMESPACE, "rpc_requests")
        self._retries = Metrics.counter(NAMESPACE, "rpc_retries")
        self._ledgers = Metrics.counter(NAMESPACE, "rpc_ledgers")
        self._client: RpcClient | None = None

    def setup(self):
        self._client = (self._client_factory or RpcClient)(
            self._url,
            self._auth.reveal(),
            timeout=self._timeout,
            retry_limit=self._retry_limit,
            retry_wait=self._retry_wait,
            on_request=self._requests.inc,
            on_retry=self._retries.inc,
            deadline=self._deadline,
        )

    def teardown(self):
        if self._client is not None:
            self._client.close()
            self._client = None


class _FetchChunkFn(RpcDoFn):
    """Fetches one LedgerRange page by page and emits one checked LedgerBlob per ledger."""

    def process(self, chunk: LedgerRange):
        safe_url = self._client.safe_url
        expected = chunk.first
        cursor: str | None = None
        while expected <= chunk.last:
            what = ledgers_text(expected, chunk.last)
            limit = min(self._batch_size, chunk.last - expected + 1)
            try:
                if cursor is None:
                    page = self._client.get_ledgers(limit, what, start=expected)
                else:
                    page = self._client.get_ledgers(limit, what, cursor=cursor)
            except RpcError as e:
                # The server would not serve the rest of this chunk: one unit for all of it.
                yield self._failed(expected, chunk.last, RpcError(str(e), expected))
                return
            ledgers = page["ledgers"]
            if not ledgers:
                yield self._failed(
                    expected,
                    chunk.last,
                    RpcError(
                        f"getLedgers from {safe_url} returned no ledgers for {what} "
                        f"(server holds {page.get('oldestLedger')}-{page.get('latestLedger')})",
                        expected,
                    ),
                )
                return
            for outcome in account_page(ledgers, expected, chunk.last, what):
                if isinstance(outcome, Problem):
                    yield self._failed(outcome.first, outcome.last, page_error(safe_url, outcome))
                else:
                    yield self._checked(outcome.entry, outcome.seq, safe_url)
                expected = outcome.last + 1
            # The next page starts right after the last ledger accounted for. That is the server's
            # own cursor (the last ledger it sent) unless it sent more than asked, and using ours
            # means no ledger is fetched twice or jumped over whatever the server's cursor says.
            cursor = str(expected - 1)

    def _checked(self, item: dict, seq: int, safe_url: str) -> LedgerBlob:
        """The blob for a ledger, or an error blob/exception naming it when its metadata is bad."""
        origin = f"{safe_url} ledger {seq}"
        try:
            data = metadata(item, seq, safe_url)
        except RpcError as e:
            return self._failed(seq, seq, e)
        self._ledgers.inc()
        return LedgerBlob(origin, LEDGER, data, seq, seq)

    def _failed(self, first: int, last: int, error: RpcError) -> LedgerBlob:
        if self._on_error != DEAD_LETTER:
            raise error
        log.warning("dead letter: %s", error)
        return LedgerBlob(
            f"{self._client.safe_url} {ledgers_text(first, last)}", ERROR, str(error).encode(), first, last
        )


class ReadRpcLedgers(beam.PTransform):
    """PBegin -> PCollection[LedgerBlob], one ``kind="ledger"`` blob per ledger of start..end."""

    def __init__(self, cfg: RpcSourceConfig, start: int, end: int | None, on_error: str = "fail"):
        super().__init__()
        with RpcClient(cfg.rpc_url, cfg.auth_header, cfg.timeout, cfg.retry_limit, cfg.retry_wait,
                       deadline=cfg.request_deadline) as client:
            self._safe_url = client.safe_url
            if end is None:
                raise RpcError(
                    f"RPC source {self._safe_url}: end_ledger is required (following the chain without an end "
                    "is not supported by this source)"
                )
            if start > end:
                raise RpcError(f"RPC source {self._safe_url}: start ledger {start} is after end ledger {end}")
            self.network_passphrase = served_network(client, cfg)
            self.oldest, self.latest = retention_window(client)
        if start < self.oldest or end > self.latest:
            raise RpcError(
                f"RPC source {self._safe_url}: ledgers {start}-{end} are not all available: the server holds "
                f"ledgers {self.oldest}-{self.latest}"
                + (" (the start is older than its retention window)" if start < self.oldest else "")
                + (f" (ledger {end} has not closed yet)" if end > self.latest else "")
            )
        self.start, self.end = start, end
        self._chunks = split_range(start, end, cfg.chunk_size)
        self._fn = _FetchChunkFn(
            cfg.rpc_url, Secret(cfg.auth_header), cfg.batch_size, cfg.timeout, cfg.retry_limit, cfg.retry_wait,
            on_error, request_deadline=cfg.request_deadline,
        )

    @property
    def description(self) -> str:
        return f"rpc {self._safe_url} ({len(self._chunks)} chunks)"

    def expand(self, pbegin):
        return (
            pbegin
            | "ListChunks" >> beam.Create(self._chunks)
            | "Distribute" >> beam.Reshuffle()
            | "FetchChunks" >> beam.ParDo(self._fn)
        )


def served_network(client: RpcClient, cfg: RpcSourceConfig) -> str:
    """The server's network passphrase, checked against the configured network when there is one."""
    served = client.get_network().get("passphrase")
    if not isinstance(served, str) or not served:
        raise RpcError(f"getNetwork from {client.safe_url}: the result has no passphrase")
    wanted = cfg.network_passphrase
    if wanted is not None and wanted != served:
        raise RpcError(
            f"RPC source {client.safe_url} serves network {served!r}, but the config says network "
            f"{cfg.network!r} ({wanted!r})"
        )
    return served

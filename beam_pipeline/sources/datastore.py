"""Source: a SEP-54 ledger data store on local disk, GCS or S3.

    ListObjects (keys of the range, computed, not listed) -> Reshuffle -> ReadObjects (read + zstd)

Everything checkable without reading ledgers is checked when the transform is constructed:
the manifest exists and parses, it agrees with the configured network and layout, the object
extension is detected. Reading goes through Beam's FileSystems, so all three stores share a path.
"""

from __future__ import annotations

import logging
import random
import time
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from beam_pipeline import DEAD_LETTER
from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import DatastoreSourceConfig
from beam_pipeline.sources import sep54
from beam_pipeline.sources.base import BATCH, ERROR, LedgerBlob
from beam_pipeline.sources.sep54 import DatastoreError, Manifest
from beam_pipeline.util import fs
from beam_pipeline.util.secrets import redact
from beam_pipeline.xdr import compression

log = logging.getLogger(__name__)

MANIFEST = ".config.json"


class ObjectSpec(NamedTuple):
    key: str
    batch_start: int
    batch_end: int
    first: int
    last: int


def load_manifest(root: str, cfg: DatastoreSourceConfig) -> Manifest:
    """Reads `.config.json` and checks it against the configured network and seed-era layout keys."""
    path = fs.join(root, MANIFEST)
    try:
        text = fs.read_bytes(path, max_bytes=1 << 20).decode("utf-8")
    except fs.DeadlineExceeded as e:  # unreachable: asking whether it exists would wait as long again
        raise DatastoreError(f"cannot read the data store manifest: {e}") from None
    except Exception as e:  # noqa: BLE001 - any read failure is reported the same way
        if not _exists(path):
            raise DatastoreError(f"{path}: data store manifest is missing (is {root} a SEP-54 data store?)") from None
        raise DatastoreError(f"{path}: cannot read the data store manifest: {e}") from e
    manifest = sep54.parse_manifest(text, path)
    want = cfg.network_passphrase
    if want is not None and want != manifest.network_passphrase:
        raise DatastoreError(
            f"{path}: data store is for network {manifest.network_passphrase!r}, "
            f"but the config says network {cfg.network!r} ({want!r})"
        )
    layout = (("ledgers_per_file", manifest.ledgers_per_batch), ("files_per_partition", manifest.batches_per_partition))
    for key, mine in layout:
        configured = getattr(cfg, key)
        if configured is not None and configured != mine:
            raise DatastoreError(f"{path}: the data store has {key} = {mine}, but the config says {configured}")
    return manifest


def _exists(path: str) -> bool:
    try:
        return fs.exists(path)
    except fs.DeadlineExceeded as e:  # not "missing": the store did not answer
        raise DatastoreError(str(e)) from None
    except Exception:  # noqa: BLE001 - existence is only used to choose the error message
        return False


def detect_extension(root: str, manifest: Manifest, ledger: int) -> str:
    """`.xdr.zst` (current) or `.xdr.zstd` (older stores), decided by the first object of the range."""
    tried = []
    for ext in sep54.EXTENSIONS:
        key = sep54.object_key(ledger, manifest.ledgers_per_batch, manifest.batches_per_partition, ext)
        if _exists(fs.join(root, key)):
            return ext
        tried.append(key)
    raise DatastoreError(f"{root}: no object for ledger {ledger} (looked for {' and '.join(tried)})")


def object_specs(start: int, end: int, manifest: Manifest, ext: str) -> list[ObjectSpec]:
    specs = []
    for b_start, b_end in sep54.batches(start, end, manifest.ledgers_per_batch):
        key = sep54.object_key(b_start, manifest.ledgers_per_batch, manifest.batches_per_partition, ext)
        specs.append(ObjectSpec(key, b_start, b_end, max(start, b_start), min(end, b_end)))
    return specs


class _ReadObjectFn(beam.DoFn):
    """Reads and decompresses one object, with bounded retries of transient failures."""

    def __init__(self, root: str, retry_limit: int, retry_wait: float, max_bytes: int, on_error: str):
        self._root = root
        self._retry_limit = retry_limit
        self._retry_wait = retry_wait
        self._max_bytes = max_bytes
        self._on_error = on_error
        self._objects = Metrics.counter(NAMESPACE, "objects_read")
        self._bytes = Metrics.counter(NAMESPACE, "object_bytes_read")
        self._retries = Metrics.counter(NAMESPACE, "read_retries")

    def process(self, spec: ObjectSpec):
        path = fs.join(self._root, spec.key)
        try:
            data = self._read(path, spec)
            xdr = decompress_object(data, path, self._max_bytes * 8)
        except DatastoreError as e:
            if self._on_error != DEAD_LETTER:
                raise
            yield LedgerBlob(spec.key, ERROR, redact(str(e)).encode(), spec.first, spec.last)
            return
        self._objects.inc()
        self._bytes.inc(len(data))
        yield LedgerBlob(spec.key, BATCH, xdr, spec.first, spec.last, spec.batch_start, spec.batch_end)

    def _read(self, path: str, spec: ObjectSpec) -> bytes:
        attempt = 0
        while True:
            try:
                return fs.read_bytes(path, self._max_bytes)
            except fs.ObjectTooLarge as e:
                raise DatastoreError(str(e)) from None
            except fs.DeadlineExceeded as e:  # Beam retried for the whole deadline already
                raise DatastoreError(f"object for ledgers {spec.batch_start}-{spec.batch_end}: {e}") from None
            except Exception as e:  # noqa: BLE001 - classified below
                if not _exists(path):
                    raise DatastoreError(
                        f"{path}: object for ledgers {spec.batch_start}-{spec.batch_end} is missing from the data store"
                    ) from None
                if attempt >= self._retry_limit:
                    raise DatastoreError(f"{path}: read failed after {attempt + 1} attempts: {e}") from e
                attempt += 1
                self._retries.inc()
                wait = self._retry_wait * (2 ** (attempt - 1)) * (0.5 + random.random())
                log.warning("read of %s failed (%s); retry %d/%d in %.1fs", path, e, attempt, self._retry_limit, wait)
                time.sleep(wait)


def decompress_object(data: bytes, path: str, max_output: int) -> bytes:
    """An object's zstd frames -> XDR bytes, through the one bounded decompressor (see xdr.compression)."""
    try:
        return compression.decompress(data, path, max_output)
    except compression.DecompressionError as e:
        raise DatastoreError(str(e)) from None


class ReadDatastoreLedgers(beam.PTransform):
    """PBegin -> PCollection[LedgerBlob], one blob per object of the requested range."""

    def __init__(self, cfg: DatastoreSourceConfig, start: int, end: int, on_error: str = "fail"):
        super().__init__()
        self._root = cfg.path.rstrip("/")
        self.manifest = load_manifest(self._root, cfg)
        self.network_passphrase = self.manifest.network_passphrase
        self.start, self.end = start, end
        ext = detect_extension(self._root, self.manifest, start)
        self._specs = object_specs(start, end, self.manifest, ext)
        self._fn = _ReadObjectFn(
            self._root, cfg.retry_limit, cfg.retry_wait, int(cfg.max_object_size_mb * 1024 * 1024), on_error
        )

    @property
    def description(self) -> str:
        return f"datastore {self._root} ({len(self._specs)} objects)"

    def expand(self, pbegin):
        return (
            pbegin
            | "ListObjects" >> beam.Create(self._specs)
            | "Distribute" >> beam.Reshuffle()
            | "ReadObjects" >> beam.ParDo(self._fn)
        )

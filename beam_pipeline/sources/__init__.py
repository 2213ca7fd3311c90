"""Sources: one module per source, chosen here by the type of its config.

Adding a source is one module with a PTransform ``PBegin -> PCollection[LedgerBlob]`` that has a
``network_passphrase`` attribute, and one line in `_SOURCES`.
"""

from __future__ import annotations

import importlib

from beam_pipeline.config import DatastoreSourceConfig, RpcSourceConfig, SourceConfig

_SOURCES = {
    DatastoreSourceConfig: ("beam_pipeline.sources.datastore", "ReadDatastoreLedgers"),
    RpcSourceConfig: ("beam_pipeline.sources.rpc", "ReadRpcLedgers"),
}


def make_source(cfg: SourceConfig, start: int, end: int | None, on_error: str):
    """The source PTransform for `cfg`, reading ledgers start..end (inclusive)."""
    module, name = _SOURCES[type(cfg)]
    return getattr(importlib.import_module(module), name)(cfg, start, end, on_error=on_error)

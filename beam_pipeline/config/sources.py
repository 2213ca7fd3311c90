"""The job's source: a SEP-54 data store or a Stellar RPC server, its keys, range and network.

`parse_source` takes the ``pipeline.source`` mapping (ours or a Go adapter's, see `gocompat`)
and records every problem with its key path; `check_range` is shared with the command line's
range overrides (`PipelineConfig.with_range`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beam_pipeline import gocompat
from beam_pipeline.config.values import (
    LEDGER_MAX,
    MAX_RETRIES,
    MAX_WAIT_S,
    build_config,
    check_at_most,
    check_not_negative,
    check_positive,
)

NETWORKS = {
    "pubnet": "Public Global Stellar Network ; September 2015",
    "mainnet": "Public Global Stellar Network ; September 2015",
    "testnet": "Test SDF Network ; September 2015",
    "futurenet": "Test SDF Future Network ; October 2022",
    "standalone": "Standalone Network ; February 2017",
}

# Upper bounds of the sources' numeric keys: past these a value is a mistake that would fail at run
# time (an allocation, an overflow) without naming the key.
_SOURCE_MAX = {
    "retry_limit": MAX_RETRIES, "retry_wait": MAX_WAIT_S, "timeout": MAX_WAIT_S, "request_deadline": MAX_WAIT_S,
    "poll_interval": MAX_WAIT_S, "chunk_size": 1_000_000, "max_object_size_mb": 65536.0,
    "ledgers_per_file": LEDGER_MAX, "files_per_partition": LEDGER_MAX,
}

# Seed-era (Go pipeline) names users already have in their configs: see gocompat.
SOURCE_ALIASES = {
    **{k: "datastore" for k in gocompat.DATASTORE_ADAPTERS},
    **{k: "rpc" for k in gocompat.RPC_ADAPTERS},
}


def resolve_network(value: str) -> str:
    """A network name (pubnet, testnet, ...) or a literal passphrase -> the passphrase."""
    return NETWORKS.get(value.lower(), value) if isinstance(value, str) else value


@dataclass(frozen=True)
class DatastoreSourceConfig:
    """A SEP-54 data store: local directory, ``gs://bucket/prefix`` or ``s3://bucket/prefix``."""

    path: str
    start_ledger: int | None = None
    end_ledger: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    network: str | None = None
    # Seed-era layout keys: when given they must agree with the store's .config.json.
    ledgers_per_file: int | None = None
    files_per_partition: int | None = None
    region: str | None = None
    endpoint: str | None = None
    force_path_style: bool = False
    anonymous: bool = False
    retry_limit: int = 3
    retry_wait: float = 1.0
    max_object_size_mb: float = 128.0
    num_workers: int | None = None
    buffer_size: int | None = None

    @property
    def network_passphrase(self) -> str | None:
        return None if self.network is None else resolve_network(self.network)


@dataclass(frozen=True)
class RpcSourceConfig:
    """A Stellar RPC server's ``getLedgers``."""

    rpc_url: str
    start_ledger: int | None = None
    end_ledger: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    network: str | None = None
    batch_size: int = 100
    auth_header: str | None = field(default=None, repr=False, metadata={"secret": True})
    retry_limit: int = 5
    retry_wait: float = 1.0
    timeout: float = 30.0
    request_deadline: float = 300.0
    follow: bool = False
    poll_interval: float = 5.0
    chunk_size: int = 1000

    @property
    def network_passphrase(self) -> str | None:
        return None if self.network is None else resolve_network(self.network)


SourceConfig = DatastoreSourceConfig | RpcSourceConfig


def check_range(src: SourceConfig, path: str) -> list[str]:
    """The problems of a source's ledger or time range (bounds, order, one of ledger or time per side)."""
    problems = []
    for n in ("start_ledger", "end_ledger"):
        v = getattr(src, n)
        if v is not None and v > LEDGER_MAX:
            problems.append(f"{path}.{n}: must be at most {LEDGER_MAX} (ledger sequences are 32-bit), got {v}")
    if src.start_ledger is not None and src.start_ledger < 1:
        problems.append(f"{path}.start_ledger: must be at least 1, got {src.start_ledger}")
    if src.start_ledger is not None and src.end_ledger is not None and src.start_ledger > src.end_ledger:
        problems.append(f"{path}: start_ledger {src.start_ledger} is after end_ledger {src.end_ledger}")
    if src.start_time is not None and src.end_time is not None and src.start_time >= src.end_time:
        problems.append(f"{path}: start_time {src.start_time.isoformat()} is not before end_time")
    if src.start_ledger is not None and src.start_time is not None:
        problems.append(f"{path}: give start_ledger or start_time, not both")
    if src.end_ledger is not None and src.end_time is not None:
        problems.append(f"{path}: give end_ledger or end_time, not both")
    if src.start_ledger is None and src.start_time is None:
        problems.append(f"{path}.start_ledger: required key is missing (or give start_time)")
    return problems


def parse_source(data: Any, path: str, problems: list[str], warnings: list[str]) -> SourceConfig | None:
    """``pipeline.source`` -> its config, or None with the reasons appended to `problems`."""
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping with type and config")
        return None
    unknown = set(data) - {"type", "config"}
    for k in sorted(unknown):
        problems.append(f"{path}.{k}: unknown key (known: config, type)")
    kind = data.get("type")
    if kind in gocompat.UNSUPPORTED_SOURCES:
        problems.append(f"{path}.type: {kind} is not supported: {gocompat.UNSUPPORTED_SOURCES[kind]}")
        return None
    if kind not in SOURCE_ALIASES:
        problems.append(f"{path}.type: {kind!r} is not one of {', '.join(SOURCE_ALIASES)}")
        return None
    cpath = f"{path}.config"
    # The Go adapters' keys (bucket_name + path_prefix, storage_type, poll_interval_seconds, ...).
    _, cfg = gocompat.normalize_source(kind, data.get("config"), cpath, problems, warnings)
    if SOURCE_ALIASES[kind] == "datastore":
        src = build_config(DatastoreSourceConfig, cfg, cpath, problems)
        if src is not None and "://" not in src.path and src.path.startswith("~"):
            import dataclasses

            src = dataclasses.replace(src, path=os.path.expanduser(src.path))
        if src is not None:
            check_positive(src, ("ledgers_per_file", "files_per_partition", "max_object_size_mb"), cpath, problems)
            check_not_negative(src, ("retry_limit", "retry_wait"), cpath, problems)
            check_at_most(src, _SOURCE_MAX, cpath, problems)
    else:
        src = build_config(RpcSourceConfig, cfg, cpath, problems)
        if src is not None:
            check_positive(src, ("batch_size", "timeout", "request_deadline", "poll_interval", "chunk_size"), cpath,
                            problems)
            check_not_negative(src, ("retry_limit", "retry_wait"), cpath, problems)
            check_at_most(src, _SOURCE_MAX, cpath, problems)
            if src.batch_size > 200:
                problems.append(f"{cpath}.batch_size: at most 200 (the RPC server's page limit), got {src.batch_size}")
            if not src.rpc_url.startswith(("http://", "https://")):
                problems.append(f"{cpath}.rpc_url: must be an http(s) URL")
    if src is not None:
        problems.extend(check_range(src, cpath))
        if src.end_ledger is None and src.end_time is None and not isinstance(src, RpcSourceConfig):
            problems.append(f"{cpath}.end_ledger: required for a data-store source, which cannot follow the chain "
                            "(give end_ledger or end_time; to follow the chain use an RPCSourceAdapter)")
    return src


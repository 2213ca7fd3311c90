"""YAML job description -> frozen, validated dataclasses.

Every error names the file and the key path (``pipeline.consumers[0].config.compression``) and
all errors of a file are reported together, before any Beam work starts. Nothing falls back to a
default silently: a key that is present must be valid, a key that is unknown is an error.

No Beam imports here: the flex-template launcher and ``validate`` use this module alone.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from beam_pipeline import gocompat
from beam_pipeline.consumers import (
    CONSUMER_CLASSES,
    CONSUMER_KEYS_WITHOUT_EFFECT,
    CONSUMER_RENAMES,
    UNSUPPORTED_CONSUMERS,
    DuckDBSinkConfig,
    ExtraConsumer,
    check_consumer,
    postgres_connection_string,
)
from beam_pipeline.filters import RowFilter
from beam_pipeline.util import yamlload
from beam_pipeline.util.envtext import EnvText, expand_env, shown
from beam_pipeline.util.urls import redact_url
from beam_pipeline.util.yamlload import MAX_YAML_NODES as MAX_YAML_NODES  # the limit, where users look

NETWORKS = {
    "pubnet": "Public Global Stellar Network ; September 2015",
    "mainnet": "Public Global Stellar Network ; September 2015",
    "testnet": "Test SDF Network ; September 2015",
    "futurenet": "Test SDF Future Network ; October 2022",
    "standalone": "Standalone Network ; February 2017",
}

STORAGE_TYPES = ("FS", "GCS", "S3")
PARTITION_SCHEMES = ("ledger_day", "hour", "ledger_range")
COMPRESSIONS = ("snappy", "gzip", "zstd", "lz4", "brotli", "none")
XDR_ENCODINGS = ("base64", "binary")
ON_ERROR = ("fail", "dead_letter")
TABLE_FORMATS = ("parquet", "delta", "iceberg")  # see sinks/table_formats
TABLE_FORMAT_PACKAGES = {"delta": "deltalake", "iceberg": "pyiceberg"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LEDGER_MAX = 2**32 - 1  # ledger sequences are uint32 in the protocol
MAX_WAIT_S = 86400.0  # a wait, timeout or deadline longer than a day is a typo (and time.sleep overflows)
MAX_RETRIES = 100
# Upper bounds of the remaining numeric keys: past these a value is a mistake that would fail at run
# time (an allocation, an overflow) without naming the key.
_SOURCE_MAX = {
    "retry_limit": MAX_RETRIES, "retry_wait": MAX_WAIT_S, "timeout": MAX_WAIT_S, "request_deadline": MAX_WAIT_S,
    "poll_interval": MAX_WAIT_S, "chunk_size": 1_000_000, "max_object_size_mb": 65536.0,
    "ledgers_per_file": LEDGER_MAX, "files_per_partition": LEDGER_MAX,
}
_SINK_MAX = {
    "ledgers_per_file": LEDGER_MAX, "buffer_size": 100_000_000, "max_file_size_mb": 1048576.0, "num_shards": 10_000,
    "rotation_interval_minutes": 525600.0, "allowed_lateness_minutes": 525600.0,
}

# Seed-era (Go pipeline) names users already have in their configs: see gocompat.
SOURCE_ALIASES = {
    **{k: "datastore" for k in gocompat.DATASTORE_ADAPTERS},
    **{k: "rpc" for k in gocompat.RPC_ADAPTERS},
}
PROCESSOR_ALIASES = {k: table for k, (table, _) in gocompat.PROCESSORS.items()}
CONSUMER_TYPES = ("SaveToParquet", *CONSUMER_CLASSES)


class ConfigError(ValueError):
    """One or more problems in a config file; the message lists each with its key path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid config:\n" + "\n".join(f"  - {p}" for p in problems))


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


@dataclass(frozen=True)
class ParquetSinkConfig:
    """The SaveToParquet consumer: where and how tables are written."""

    storage_type: str = "FS"
    local_path: str | None = None
    bucket_name: str | None = None
    region: str | None = None
    endpoint: str | None = None
    path_prefix: str = ""
    partition_by: str = "ledger_day"
    ledgers_per_file: int = 10000
    compression: str = "zstd"
    buffer_size: int = 10000
    max_file_size_mb: float = 128.0
    num_shards: int = 1
    include_metadata: bool = False
    schema_evolution: bool = True
    xdr_encoding: str = "base64"
    rotation_interval_minutes: float = 0.0
    allowed_lateness_minutes: float = 0.0
    dry_run: bool = False
    debug: bool = False
    # A Delta Lake or Iceberg table over each archived table, committed with the run (sinks/table_formats).
    table_format: str = "parquet"
    iceberg_catalog: str = ""  # a catalog of pyiceberg's configuration; "": the archive's own SQLite catalog
    iceberg_namespace: str = "stellar"

    @property
    def root(self) -> str:
        """The archive root: a local path, ``gs://bucket`` or ``s3://bucket``, with path_prefix."""
        if self.storage_type == "FS":
            base = self.local_path.rstrip("/")
        elif self.storage_type == "GCS":
            base = "gs://" + self.bucket_name.strip("/")
        else:
            base = "s3://" + self.bucket_name.strip("/")
        return f"{base}/{self.path_prefix.strip('/')}" if self.path_prefix else base


@dataclass(frozen=True)
class PipelineConfig:
    name: str
    source: SourceConfig
    processors: tuple[str, ...]
    consumers: tuple[ParquetSinkConfig, ...]
    on_error: str = "fail"
    config_file: str = ""
    # Row filters of the processors (at most one per table), applied in the decode step.
    filters: tuple[RowFilter, ...] = ()
    # The consumers fed beside SaveToParquet (PostgreSQL, DuckDB, Redis, stdout), in file order.
    extra_consumers: tuple[ExtraConsumer, ...] = ()
    # Keys that were accepted but do nothing in this job; printed by validate and run.
    warnings: tuple[str, ...] = ()

    @property
    def sink(self) -> ParquetSinkConfig:
        return self.consumers[0]

    @property
    def streaming(self) -> bool:
        src = self.source
        return isinstance(src, RpcSourceConfig) and (src.follow or (src.end_ledger is None and src.end_time is None))

    def with_range(
        self,
        start: int | None,
        end: int | None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> PipelineConfig:
        """A copy with the source's range overridden (command-line flags win over the file).

        A ledger bound replaces a time bound on the same side and vice versa.
        """
        import dataclasses

        changes: dict[str, Any] = {}
        if start is not None:
            changes.update(start_ledger=start, start_time=None)
        if end is not None:
            changes.update(end_ledger=end, end_time=None)
        if start_time is not None:
            changes.update(start_time=start_time, start_ledger=None)
        if end_time is not None:
            changes.update(end_time=end_time, end_ledger=None)
        if not changes:
            return self
        source = dataclasses.replace(self.source, **changes)
        problems = _check_range(source, "pipeline.source.config")
        if problems:
            raise ConfigError(self.config_file or "<command line>", problems)
        return dataclasses.replace(self, source=source)


# --- parsing ---------------------------------------------------------------------------------

_INT_TEXT = re.compile(r"^[+-]?[0-9][0-9_]*$")


def _int_text(text: str) -> int:
    """Decimal digits (YAML's underscores allowed) -> int; anything else is a ValueError."""
    if not _INT_TEXT.match(text):
        raise ValueError(text)
    return int(text.replace("_", ""))


def _from_env(v: Any, parse: Callable[[str], Any], expected: str) -> Any:
    """`EnvText` -> the key's type through `parse`; TypeError naming the reference when it does not parse."""
    try:
        return parse(v.strip())
    except (ValueError, OverflowError):
        raise TypeError(f"expected {expected}, got {shown(v)}") from None


def _as_int(v: Any) -> int:
    if isinstance(v, EnvText):
        return _from_env(v, _int_text, "an integer")
    if isinstance(v, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise TypeError(f"expected an integer, got {shown(v)}")


def _as_float(v: Any) -> float:
    if isinstance(v, EnvText):
        v = _from_env(v, float, "a number")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {shown(v)}")
    if not math.isfinite(v):  # .nan, .inf: every size, wait and timeout is a finite number
        raise TypeError(f"expected a finite number, got {v!r}")
    return float(v)


def _as_bool(v: Any) -> bool:
    if isinstance(v, EnvText):
        v = {"true": True, "false": False}.get(v.strip().lower(), v)
    if not isinstance(v, bool):
        raise TypeError(f"expected true or false, got {shown(v)}")
    return v


def _as_str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {shown(v)}")
    return str(v)  # a plain str: EnvText stays in this module


def as_time(v: Any) -> datetime:
    """An RFC 3339 time in UTC; also used for the command line's --start_time/--end_time."""
    if isinstance(v, EnvText):
        v = str(v)
    if isinstance(v, datetime):
        t = v
    elif isinstance(v, str):
        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise TypeError(f"expected an RFC 3339 time such as 2024-01-01T00:00:00Z, got {v!r}") from None
    else:
        raise TypeError(f"expected an RFC 3339 time, got {type(v).__name__} {v!r}")
    if t.tzinfo is None:
        raise TypeError(f"time {v!r} has no time zone; write it in UTC with a Z suffix")
    return t.astimezone(timezone.utc)


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {
    "int": _as_int,
    "int | None": _as_int,
    "float": _as_float,
    "float | None": _as_float,
    "bool": _as_bool,
    "str": _as_str,
    "str | None": _as_str,
    "datetime | None": as_time,
}


def _build(cls, data: Any, path: str, problems: list[str], renames: Mapping[str, str] | None = None):
    """Builds dataclass `cls` from a mapping, recording every problem with its key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping, got {type(data).__name__}")
        return None
    renames = renames or {}
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, raw in data.items():
        name = renames.get(key, key)
        if name not in known:
            problems.append(f"{path}.{key}: unknown key (known: {', '.join(sorted(known))})")
            continue
        if raw is None:
            problems.append(f"{path}.{key}: no value given (remove the key to use the default)")
            continue
        try:
            kwargs[name] = _CONVERTERS[known[name].type](raw)
        except TypeError as e:
            reason = str(e)
            if known[name].metadata.get("secret"):
                reason = f"expected a string, got a value of type {type(raw).__name__} (a secret: not shown)"
            problems.append(f"{path}.{key}: {reason}")
    missing = [
        f.name
        for f in fields(cls)
        if f.name not in kwargs and f.default is MISSING and f.default_factory is MISSING
    ]
    for name in missing:
        if not any(p.startswith(f"{path}.{name}:") for p in problems):
            problems.append(f"{path}.{name}: required key is missing")
    if missing:
        return None
    return cls(**kwargs)



def _check_choice(value: str, choices: tuple[str, ...], path: str, problems: list[str], fold: bool = False) -> None:
    probe = value.lower() if fold else value
    if probe not in choices:
        problems.append(f"{path}: {value!r} is not one of {', '.join(choices)}")


def _check_positive(obj: Any, names: tuple[str, ...], path: str, problems: list[str]) -> None:
    for n in names:
        v = getattr(obj, n)
        if v is not None and v <= 0:
            problems.append(f"{path}.{n}: must be greater than 0, got {v}")


def _check_at_most(obj: Any, limits: Mapping[str, float], path: str, problems: list[str]) -> None:
    for n, hi in limits.items():
        v = getattr(obj, n, None)
        if v is not None and v > hi:
            problems.append(f"{path}.{n}: must be at most {hi:g}, got {v:g}")


def _check_not_negative(obj: Any, names: tuple[str, ...], path: str, problems: list[str]) -> None:
    for n in names:
        if getattr(obj, n) < 0:
            problems.append(f"{path}.{n}: must not be negative, got {getattr(obj, n):g}")


def _check_range(src: SourceConfig, path: str) -> list[str]:
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


def _parse_source(data: Any, path: str, problems: list[str], warnings: list[str]) -> SourceConfig | None:
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
        src = _build(DatastoreSourceConfig, cfg, cpath, problems)
        if src is not None and "://" not in src.path and src.path.startswith("~"):
            import dataclasses

            src = dataclasses.replace(src, path=os.path.expanduser(src.path))
        if src is not None:
            _check_positive(src, ("ledgers_per_file", "files_per_partition", "max_object_size_mb"), cpath, problems)
            _check_not_negative(src, ("retry_limit", "retry_wait"), cpath, problems)
            _check_at_most(src, _SOURCE_MAX, cpath, problems)
    else:
        src = _build(RpcSourceConfig, cfg, cpath, problems)
        if src is not None:
            _check_positive(src, ("batch_size", "timeout", "request_deadline", "poll_interval", "chunk_size"), cpath,
                            problems)
            _check_not_negative(src, ("retry_limit", "retry_wait"), cpath, problems)
            _check_at_most(src, _SOURCE_MAX, cpath, problems)
            if src.batch_size > 200:
                problems.append(f"{cpath}.batch_size: at most 200 (the RPC server's page limit), got {src.batch_size}")
            if not src.rpc_url.startswith(("http://", "https://")):
                problems.append(f"{cpath}.rpc_url: must be an http(s) URL")
    if src is not None:
        problems.extend(_check_range(src, cpath))
        if src.end_ledger is None and src.end_time is None and not isinstance(src, RpcSourceConfig):
            problems.append(f"{cpath}.end_ledger: required for a data-store source, which cannot follow the chain "
                            "(give end_ledger or end_time; to follow the chain use an RPCSourceAdapter)")
    return src


def _has_scheme_or_dots(piece: str) -> bool:
    return "://" in piece or piece.startswith("/") or any(p == ".." for p in piece.split("/"))


def _parse_consumer(
    data: Any, path: str, problems: list[str], warnings: list[str]
) -> ParquetSinkConfig | ExtraConsumer | None:
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping with type and config")
        return None
    for k in sorted(set(data) - {"type", "config", "name"}):
        problems.append(f"{path}.{k}: unknown key (known: config, name, type)")
    kind = data.get("type")
    if kind in UNSUPPORTED_CONSUMERS:
        problems.append(f"{path}.type: {kind} is not supported by this job: {UNSUPPORTED_CONSUMERS[kind]}")
        return None
    if kind not in CONSUMER_TYPES:
        problems.append(f"{path}.type: {kind!r} is not one of {', '.join(CONSUMER_TYPES)}")
        return None
    cpath = f"{path}.config"
    raw = data.get("config")
    if isinstance(raw, dict):
        for key, why in CONSUMER_KEYS_WITHOUT_EFFECT.get(kind, {}).items():
            if key in raw:
                raw = {k: v for k, v in raw.items() if k != key}
                warnings.append(f"{cpath}.{key}: has no effect in this job ({why})")
    if kind == "SaveToPostgreSQL" and isinstance(raw, dict):
        raw = postgres_connection_string(raw)
    if kind != "SaveToParquet":
        return _build(CONSUMER_CLASSES[kind], raw, cpath, problems, CONSUMER_RENAMES.get(kind))
    if isinstance(raw, dict) and raw.get("storage_type", "FS") == "FS" and "bucket_name" in raw:
        raw = {k: v for k, v in raw.items() if k != "bucket_name"}
        warnings.append(f"{cpath}.bucket_name: has no effect with storage_type FS (files go to local_path)")
    sink = _build(ParquetSinkConfig, raw, cpath, problems)
    if sink is None:
        return None
    if sink.local_path and sink.local_path.startswith("~"):
        import dataclasses

        sink = dataclasses.replace(sink, local_path=os.path.expanduser(sink.local_path))
    _check_choice(sink.storage_type, STORAGE_TYPES, f"{cpath}.storage_type", problems)
    if ":" in sink.partition_by:  # a function mapping (ledger, close time) to a directory
        from beam_pipeline.util.partition_fn import check_partition_function

        problem = check_partition_function(sink.partition_by)
        if problem:
            problems.append(f"{cpath}.partition_by: {problem}")
    else:
        _check_choice(sink.partition_by, PARTITION_SCHEMES, f"{cpath}.partition_by", problems)
    _check_choice(sink.compression, COMPRESSIONS, f"{cpath}.compression", problems)
    _check_choice(sink.xdr_encoding, XDR_ENCODINGS, f"{cpath}.xdr_encoding", problems)
    _check_positive(sink, ("ledgers_per_file", "buffer_size", "max_file_size_mb", "num_shards"), cpath, problems)
    _check_not_negative(sink, ("rotation_interval_minutes", "allowed_lateness_minutes"), cpath, problems)
    _check_at_most(sink, _SINK_MAX, cpath, problems)
    if sink.storage_type == "FS" and not sink.local_path:
        problems.append(f"{cpath}.local_path: required when storage_type is FS")
    if sink.storage_type in ("GCS", "S3"):
        if not sink.bucket_name:
            problems.append(f"{cpath}.bucket_name: required when storage_type is {sink.storage_type}")
        elif _has_scheme_or_dots(sink.bucket_name):
            problems.append(f"{cpath}.bucket_name: a bucket name, not a URL or path: {sink.bucket_name!r}")
    if sink.path_prefix and _has_scheme_or_dots(sink.path_prefix):
        problems.append(f"{cpath}.path_prefix: must stay inside the root (no '..', leading '/' or URL scheme)")
    if sink.local_path and "://" in sink.local_path:
        problems.append(f"{cpath}.local_path: a local directory, not a URL (use storage_type GCS or S3)")
    problems.extend(_check_table_format(sink, cpath))
    return sink


def _check_table_format(sink: ParquetSinkConfig, cpath: str) -> list[str]:
    """`table_format` and its keys: a known format whose library is installed, and a catalog it can reach."""
    import importlib.util

    if sink.table_format not in TABLE_FORMATS:
        return [f"{cpath}.table_format: {sink.table_format!r} is not one of {', '.join(TABLE_FORMATS)}"]
    problems = []
    package = TABLE_FORMAT_PACKAGES.get(sink.table_format)
    if package and importlib.util.find_spec(package) is None:
        problems.append(f"{cpath}.table_format: {sink.table_format} needs the {package} package, which is not "
                        "installed (pip install stellar-beam-archive[tables])")
    if sink.table_format != "parquet" and ":" in sink.partition_by:
        problems.append(f"{cpath}.table_format: {sink.table_format} tables take their partition columns from "
                        "ledger_day, hour or ledger_range; a partition function's directories have none")
    if not _IDENTIFIER.match(sink.iceberg_namespace):
        problems.append(f"{cpath}.iceberg_namespace: {sink.iceberg_namespace!r} is not a plain name "
                        "(letters, digits, underscores)")
    if sink.table_format == "iceberg" and not sink.iceberg_catalog and sink.storage_type != "FS":
        problems.append(f"{cpath}.iceberg_catalog: required with table_format iceberg on {sink.storage_type}: the "
                        "archive's own catalog is a local SQLite file; name a catalog of pyiceberg's configuration "
                        "(Glue, REST, BigLake, SQL; see docs/table_formats.md)")
    return problems


def select_pipeline(data: Any, source: str, pipeline: str | None) -> Any:
    """The Go `pipelines:` format (named pipelines) -> the one-pipeline document `pipeline` names.

    With one pipeline in the file the name may be left out; `pipeline` given for a one-pipeline
    file must be its name.
    """
    if not isinstance(data, dict) or "pipelines" not in data:
        if pipeline is not None and isinstance(data, dict) and isinstance(data.get("pipeline"), dict):
            name = data["pipeline"].get("name")
            if name != pipeline:
                raise ConfigError(source, [f"--pipeline {pipeline}: the file holds one pipeline, named {name!r}"])
        return data
    named = data["pipelines"]
    if not isinstance(named, dict) or not named:
        raise ConfigError(source, ["pipelines: expected a mapping of pipeline names to pipelines"])
    problems = [f"{k}: unknown top-level key (known: pipelines)" for k in sorted(set(data) - {"pipelines"})]
    if problems:
        raise ConfigError(source, problems)
    names = ", ".join(str(n) for n in named)
    if pipeline is None:
        if len(named) > 1:
            raise ConfigError(source, [f"pipelines: the file holds several pipelines ({names}); pick one with "
                                       "--pipeline NAME"])
        pipeline = next(iter(named))
    if pipeline not in named:
        raise ConfigError(source, [f"--pipeline {pipeline}: no such pipeline (the file holds {names})"])
    body = named[pipeline]
    if not isinstance(body, dict):
        raise ConfigError(source, [f"pipelines.{pipeline}: expected a mapping"])
    return {"pipeline": {"name": str(pipeline), **body}}


def parse_config(data: Any, source: str = "<config>", pipeline: str | None = None) -> PipelineConfig:
    """Validates a parsed YAML document; raises ConfigError listing every problem.

    `pipeline` picks one of a `pipelines:` file's named pipelines (the Go main.go format).
    """
    from beam_pipeline.records import table_names  # registry of tables; light import

    problems: list[str] = []
    warnings: list[str] = []
    data = select_pipeline(data, source, pipeline)
    data = expand_env(data, "", problems)
    if problems:  # values built from unset variables would only add confusing follow-on errors
        raise ConfigError(source, problems)
    if not isinstance(data, dict) or "pipeline" not in data:
        raise ConfigError(source, ["pipeline: the top-level key 'pipeline' (or 'pipelines') is missing"])
    for k in sorted(set(data) - {"pipeline"}):
        problems.append(f"{k}: unknown top-level key (known: pipeline)")
    p = data["pipeline"]
    if not isinstance(p, dict):
        raise ConfigError(source, ["pipeline: expected a mapping"])
    known = {"name", "source", "processors", "consumers", "on_error"}
    for k in sorted(set(p) - known):
        problems.append(f"pipeline.{k}: unknown key (known: {', '.join(sorted(known))})")

    name = p.get("name", "stellar-archive")
    if not isinstance(name, str) or not name:
        problems.append("pipeline.name: expected a non-empty string")
    on_error = p.get("on_error", "fail")
    _check_choice(str(on_error), ON_ERROR, "pipeline.on_error", problems)

    if "source" not in p:
        problems.append("pipeline.source: required key is missing")
        source_cfg = None
    else:
        source_cfg = _parse_source(p["source"], "pipeline.source", problems, warnings)

    processors, filters = gocompat.parse_processors(p.get("processors"), table_names(), problems, warnings)

    consumers: list[ParquetSinkConfig] = []
    extras: list[ExtraConsumer] = []
    cons = p.get("consumers")
    if not isinstance(cons, list) or not cons:
        problems.append("pipeline.consumers: expected a non-empty list (e.g. one SaveToParquet)")
        cons = []
    for i, item in enumerate(cons):
        cpath = f"pipeline.consumers[{i}]"
        sink = _parse_consumer(item, cpath, problems, warnings)
        if isinstance(sink, ParquetSinkConfig):
            consumers.append(sink)
        elif sink is not None:
            check_consumer(sink, tuple(processors), f"{cpath}.config", problems, warnings)
            extras.append(sink)
    for extra in extras:
        if isinstance(extra, DuckDBSinkConfig) and consumers and consumers[0].storage_type != "FS":
            problems.append(f"pipeline.consumers: SaveToDuckDB builds its views over the Parquet archive, which "
                            f"must then be on local disk (storage_type FS), not {consumers[0].storage_type}")
    if cons and len(consumers) != 1:
        problems.append("pipeline.consumers: a pipeline needs exactly one SaveToParquet consumer (the archive its "
                        f"manifests and verify describe), got {len(consumers)}; the other consumers are fed the "
                        "same rows")
    streaming = isinstance(source_cfg, RpcSourceConfig) and (
        source_cfg.follow or (source_cfg.end_ledger is None and source_cfg.end_time is None))
    for i, sink in enumerate(consumers):
        if streaming and ":" in sink.partition_by:
            problems.append(f"pipeline.consumers[{i}].config.partition_by: a partition function is for batch jobs "
                            "(following the chain windows by ledger_day or hour)")
        if streaming and sink.table_format != "parquet":
            problems.append(f"pipeline.consumers[{i}].config.table_format: {sink.table_format} is for batch jobs; "
                            "following the chain commits pane by pane, and a table-format commit per pane and "
                            "partition would flood the log (archive the tail as Parquet and register it with a "
                            "bounded run, see docs/table_formats.md)")
        if sink.rotation_interval_minutes and not streaming:
            warnings.append(f"pipeline.consumers[{i}].config.rotation_interval_minutes: has no effect in a batch "
                            "job (files are cut by partition and ledgers_per_file; it applies when following "
                            "the chain)")

    if problems:
        raise ConfigError(source, problems)
    return PipelineConfig(
        name=name,
        source=source_cfg,
        processors=tuple(processors),
        consumers=tuple(consumers),
        on_error=on_error,
        config_file=source,
        filters=tuple(filters),
        extra_consumers=tuple(extras),
        warnings=tuple(warnings),
    )


def load_yaml(text: str, source: str) -> Any:
    """YAML text -> plain data; syntax errors and alias bombs are ConfigErrors naming `source`."""
    try:
        return yamlload.load(text)
    except yamlload.YamlRefused as e:
        raise ConfigError(source, [str(e)]) from None


def load_config_text(text: str, source: str, pipeline: str | None = None) -> PipelineConfig:
    return parse_config(load_yaml(text, source), source, pipeline)


def load_config(path: str, options=None, pipeline: str | None = None) -> PipelineConfig:
    """Reads and validates a config file from a local path, gs:// or s3:// (the latter through Beam
    FileSystems, configured with `options` when given: endpoints, credentials). `pipeline` picks one of
    a `pipelines:` file's named pipelines."""
    if "://" not in path:  # local: no Beam import, so that validating a config stays light
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ConfigError(path, [f"cannot read the file: {e.strerror or e}"]) from None
    else:
        from apache_beam.io.filesystems import FileSystems

        from beam_pipeline.util import fs

        if options is not None:
            FileSystems.set_options(options)
        try:
            text = fs.read_bytes(path, max_bytes=1 << 20).decode("utf-8")
        except Exception as e:  # noqa: BLE001 - reported with the path
            raise ConfigError(path, [f"cannot read the file: {e}"]) from None
    return load_config_text(text, path, pipeline)


def describe(cfg: PipelineConfig) -> dict:
    """The resolved config as plain data (secrets redacted), for ``validate`` and manifests."""
    import dataclasses

    def plain(obj):
        if dataclasses.is_dataclass(obj):
            out = {}
            for f in fields(obj):
                v = getattr(obj, f.name)
                if f.name == "auth_header" and v is not None:
                    v = "<redacted>"
                elif f.name in ("rpc_url", "endpoint") and v is not None:
                    v = redact_url(v)  # userinfo, query and fragment may hold credentials
                elif f.name in ("connection_string", "address") and "://" in v:
                    v = redact_url(v)
                elif f.name == "connection_string":
                    v = "<redacted>"  # key=value form: may hold password=...
                elif f.name == "password" and v is not None:
                    v = "<redacted>"
                out[f.name] = plain(v)
            return out
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        if isinstance(obj, datetime):
            return obj.isoformat().replace("+00:00", "Z")
        return obj

    d = plain(cfg)
    d["source"]["type"] = "rpc" if isinstance(cfg.source, RpcSourceConfig) else "datastore"
    d["extra_consumers"] = [{"type": _consumer_type(c), **e} for c, e in zip(cfg.extra_consumers,
                                                                           d["extra_consumers"], strict=True)]
    return d


def _consumer_type(c: ExtraConsumer) -> str:
    return next(name for name, cls in CONSUMER_CLASSES.items() if isinstance(c, cls))

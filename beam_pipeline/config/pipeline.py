"""The ``pipeline:`` document: one job's source, processors and consumers, parsed, checked and loaded.

Every error names the file and the key path (``pipeline.consumers[0].config.compression``) and
all errors of a file are reported together, before any Beam work starts. The parts have modules
of their own: `sources` (the source), `parquet` (the archive's SaveToParquet consumer),
`beam_pipeline.consumers` (the consumers fed beside it) and `values` (typed keys under them all).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from beam_pipeline import gocompat
from beam_pipeline.config.parquet import ParquetSinkConfig, check_sink_mode, parse_parquet_sink
from beam_pipeline.config.sources import RpcSourceConfig, SourceConfig, check_range, parse_source
from beam_pipeline.config.values import ConfigError, build_config, check_choice
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
from beam_pipeline.util.envtext import expand_env
from beam_pipeline.util.urls import redact_url

ON_ERROR = ("fail", "dead_letter")
PROCESSOR_ALIASES = {k: table for k, (table, _) in gocompat.PROCESSORS.items()}
CONSUMER_TYPES = ("SaveToParquet", *CONSUMER_CLASSES)


@dataclass(frozen=True)
class PipelineConfig:
    """One job: its source, tables (processors) and consumers, checked together."""

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
        problems = check_range(source, "pipeline.source.config")
        if problems:
            raise ConfigError(self.config_file or "<command line>", problems)
        return dataclasses.replace(self, source=source)


def _parse_consumer(
    data: Any, path: str, problems: list[str], warnings: list[str]
) -> ParquetSinkConfig | ExtraConsumer | None:
    """One ``pipeline.consumers`` item -> the archive's settings or another consumer's (None: see `problems`)."""
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
        return build_config(CONSUMER_CLASSES[kind], raw, cpath, problems, CONSUMER_RENAMES.get(kind))
    return parse_parquet_sink(raw, cpath, problems, warnings)


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
    check_choice(str(on_error), ON_ERROR, "pipeline.on_error", problems)

    if "source" not in p:
        problems.append("pipeline.source: required key is missing")
        source_cfg = None
    else:
        source_cfg = parse_source(p["source"], "pipeline.source", problems, warnings)

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
        check_sink_mode(sink, streaming, f"pipeline.consumers[{i}].config", problems, warnings)

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

"""The SaveToParquet consumer: the archive's keys (where, how, which table format) and their checks.

Every pipeline has exactly one SaveToParquet consumer: the archive its manifests and ``verify``
describe. `parse_parquet_sink` checks the keys of one such consumer on their own; `check_sink_mode`
adds what depends on the whole job (a batch run or one following the chain).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any

from beam_pipeline.config.values import (
    LEDGER_MAX,
    build_config,
    check_at_most,
    check_choice,
    check_not_negative,
    check_positive,
)

STORAGE_TYPES = ("FS", "GCS", "S3")
PARTITION_SCHEMES = ("ledger_day", "hour", "ledger_range")
COMPRESSIONS = ("snappy", "gzip", "zstd", "lz4", "brotli", "none")
XDR_ENCODINGS = ("base64", "binary")
TABLE_FORMATS = ("parquet", "delta", "iceberg")  # see sinks/table_formats
TABLE_FORMAT_PACKAGES = {"delta": "deltalake", "iceberg": "pyiceberg"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Upper bounds of the numeric keys: past these a value is a mistake that would fail at run time (an
# allocation, an overflow) without naming the key.
_SINK_MAX = {
    "ledgers_per_file": LEDGER_MAX, "buffer_size": 100_000_000, "max_file_size_mb": 1048576.0, "num_shards": 10_000,
    "rotation_interval_minutes": 525600.0, "allowed_lateness_minutes": 525600.0,
}


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


def parse_parquet_sink(raw: Any, cpath: str, problems: list[str], warnings: list[str]) -> ParquetSinkConfig | None:
    """A SaveToParquet consumer's ``config`` -> its settings, or None with the reasons appended to `problems`."""
    if isinstance(raw, dict) and raw.get("storage_type", "FS") == "FS" and "bucket_name" in raw:
        raw = {k: v for k, v in raw.items() if k != "bucket_name"}
        warnings.append(f"{cpath}.bucket_name: has no effect with storage_type FS (files go to local_path)")
    sink = build_config(ParquetSinkConfig, raw, cpath, problems)
    if sink is None:
        return None
    if sink.local_path and sink.local_path.startswith("~"):
        sink = dataclasses.replace(sink, local_path=os.path.expanduser(sink.local_path))
    check_choice(sink.storage_type, STORAGE_TYPES, f"{cpath}.storage_type", problems)
    if ":" in sink.partition_by:  # a function mapping (ledger, close time) to a directory
        from beam_pipeline.util.partition_fn import check_partition_function

        problem = check_partition_function(sink.partition_by)
        if problem:
            problems.append(f"{cpath}.partition_by: {problem}")
    else:
        check_choice(sink.partition_by, PARTITION_SCHEMES, f"{cpath}.partition_by", problems)
    check_choice(sink.compression, COMPRESSIONS, f"{cpath}.compression", problems)
    check_choice(sink.xdr_encoding, XDR_ENCODINGS, f"{cpath}.xdr_encoding", problems)
    check_positive(sink, ("ledgers_per_file", "buffer_size", "max_file_size_mb", "num_shards"), cpath, problems)
    check_not_negative(sink, ("rotation_interval_minutes", "allowed_lateness_minutes"), cpath, problems)
    check_at_most(sink, _SINK_MAX, cpath, problems)
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
    problems.extend(check_table_format(sink, cpath))
    return sink


def check_table_format(sink: ParquetSinkConfig, cpath: str) -> list[str]:
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


def check_sink_mode(sink: ParquetSinkConfig, streaming: bool, cpath: str, problems: list[str],
                    warnings: list[str]) -> None:
    """The keys that only a batch job, or only one following the chain, can honour."""
    if streaming and ":" in sink.partition_by:
        problems.append(f"{cpath}.partition_by: a partition function is for batch jobs "
                        "(following the chain windows by ledger_day or hour)")
    if streaming and sink.table_format != "parquet":
        problems.append(f"{cpath}.table_format: {sink.table_format} is for batch jobs; "
                        "following the chain commits pane by pane, and a table-format commit per pane and "
                        "partition would flood the log (archive the tail as Parquet and register it with a "
                        "bounded run, see docs/table_formats.md)")
    if sink.rotation_interval_minutes and not streaming:
        warnings.append(f"{cpath}.rotation_interval_minutes: has no effect in a batch "
                        "job (files are cut by partition and ledgers_per_file; it applies when following "
                        "the chain)")


def _has_scheme_or_dots(piece: str) -> bool:
    return "://" in piece or piece.startswith("/") or any(p == ".." for p in piece.split("/"))


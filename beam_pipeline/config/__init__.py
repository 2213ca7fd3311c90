"""YAML job description -> frozen, validated dataclasses.

Every error names the file and the key path (``pipeline.consumers[0].config.compression``) and
all errors of a file are reported together, before any Beam work starts. Nothing falls back to a
default silently: a key that is present must be valid, a key that is unknown is an error.

No Beam imports here: the flex-template launcher and ``validate`` use this package alone.

The modules, in the order a reader meets them in a file: `pipeline` (the ``pipeline:`` document,
loading and `describe`), `sources` (``pipeline.source``), `parquet` (the SaveToParquet consumer; the
other consumers are `beam_pipeline.consumers`) and `values` (typed keys and key-path errors under
them all). This package's names are its API: import them from here.
"""

from beam_pipeline.config.parquet import (
    COMPRESSIONS,
    PARTITION_SCHEMES,
    STORAGE_TYPES,
    TABLE_FORMAT_PACKAGES,
    TABLE_FORMATS,
    XDR_ENCODINGS,
    ParquetSinkConfig,
)
from beam_pipeline.config.pipeline import (
    CONSUMER_TYPES,
    ON_ERROR,
    PROCESSOR_ALIASES,
    PipelineConfig,
    describe,
    load_config,
    load_config_text,
    load_yaml,
    parse_config,
    select_pipeline,
)
from beam_pipeline.config.sources import (
    NETWORKS,
    SOURCE_ALIASES,
    DatastoreSourceConfig,
    RpcSourceConfig,
    SourceConfig,
    resolve_network,
)
from beam_pipeline.config.values import LEDGER_MAX, MAX_RETRIES, MAX_WAIT_S, ConfigError, as_time
from beam_pipeline.util.yamlload import MAX_YAML_NODES  # the limit, where users look

__all__ = [
    "COMPRESSIONS",
    "CONSUMER_TYPES",
    "LEDGER_MAX",
    "MAX_RETRIES",
    "MAX_WAIT_S",
    "MAX_YAML_NODES",
    "NETWORKS",
    "ON_ERROR",
    "PARTITION_SCHEMES",
    "PROCESSOR_ALIASES",
    "SOURCE_ALIASES",
    "STORAGE_TYPES",
    "TABLE_FORMATS",
    "TABLE_FORMAT_PACKAGES",
    "XDR_ENCODINGS",
    "ConfigError",
    "DatastoreSourceConfig",
    "ParquetSinkConfig",
    "PipelineConfig",
    "RpcSourceConfig",
    "SourceConfig",
    "as_time",
    "describe",
    "load_config",
    "load_config_text",
    "load_yaml",
    "parse_config",
    "resolve_network",
    "select_pipeline",
]

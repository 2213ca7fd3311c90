"""The archival graph, on one screen: source -> decode -> window -> Parquet -> manifest."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import apache_beam as beam
from apache_beam.transforms.window import FixedWindows, GlobalWindows

from beam_pipeline.config import ParquetSinkConfig, PipelineConfig
from beam_pipeline.decode import DecodeSettings, LedgersToRows
from beam_pipeline.dedupe import DedupeRunWide, deduplicated_tables
from beam_pipeline.sinks.manifest import FinalizeRun, RunInfo
from beam_pipeline.sinks.parquet import WriteHivePartitionedParquet
from beam_pipeline.sinks.partitioning import WINDOW_SECONDS, file_group_of
from beam_pipeline.sources import make_source


class BuiltPipeline(NamedTuple):
    run: RunInfo
    manifest: beam.PCollection


def event_time_windows(sink: ParquetSinkConfig):
    """Windows that match the partitions: hourly or daily by ledger close time."""
    seconds = WINDOW_SECONDS.get(sink.partition_by)
    return FixedWindows(seconds) if seconds else GlobalWindows()


def _groups_batch_style(runner) -> bool:
    """The in-process FnApiRunner: it runs the tail to its end ledger, then groups once (no early panes)."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return isinstance(runner, FnApiRunner)


def decode_settings(
    cfg: PipelineConfig, run: RunInfo, network_passphrase: str, ingested_at_us: int, spill_dir: str | None
) -> DecodeSettings:
    """The decode step's settings: the run's identity and the sink's choices, with the sink's file-group function."""
    sink = cfg.sink
    return DecodeSettings(
        tables=tuple(cfg.processors),
        network_passphrase=network_passphrase,
        file_group=file_group_of(sink),
        xdr_encoding=sink.xdr_encoding,
        include_metadata=sink.include_metadata,
        pipeline_name=cfg.name,
        run_id=run.run_id,
        ingested_at_us=ingested_at_us,
        on_error=cfg.on_error,
        spill_dir=spill_dir,
        filters=tuple(cfg.filters),
    )


def build_pipeline(
    p: beam.Pipeline, cfg: PipelineConfig, run: RunInfo, ingested_at_us: int, spill_dir: str | None = None
) -> BuiltPipeline:
    """Adds the archival job to `p` without running it.

    `spill_dir`, for runners whose workers share this machine's disk: decoded chunks wait there
    instead of in the runner's memory while they are shuffled (`util/spill.py`).
    """
    sink = cfg.sink
    if cfg.streaming:  # --- following the chain (docs/streaming.md); step labels as in batch, for --update
        from beam_pipeline.sinks.streaming import FinalizeStreamingRun, WriteStreamingParquet, streaming_windowing
        from beam_pipeline.sources.rpc_tail import TailRpcLedgers

        source = TailRpcLedgers(cfg.source, run.start_ledger, run.end_ledger, cfg.on_error)
        windowing = streaming_windowing(sink, early_panes=not _groups_batch_style(p.runner))
        write = WriteStreamingParquet(sink, run.run_id)
    else:
        source = make_source(cfg.source, run.start_ledger, run.end_ledger, cfg.on_error)
        windowing = beam.WindowInto(event_time_windows(sink))
        write = WriteHivePartitionedParquet(sink, run.run_id, (run.start_ledger, run.end_ledger))
    run = dataclasses.replace(run, source=source.description, network_passphrase=source.network_passphrase or "")
    settings = decode_settings(cfg, run, source.network_passphrase, ingested_at_us, spill_dir)

    decoded = p | "ReadLedgers" >> source | "LedgersToRows" >> LedgersToRows(settings)
    rows = decoded.rows
    if deduplicated_tables(cfg.processors):  # tables with one row per key over the run (assets)
        rows = rows | "DedupeRunWide" >> DedupeRunWide(cfg.processors, sink, streaming=cfg.streaming)
    windowed = rows | "WindowByCloseTime" >> windowing
    # The batch sink takes the dead letters too: a dead-lettered ledger is not covered by the run.
    files = (windowed if cfg.streaming else (windowed, decoded.dead_letter)) | "WriteParquet" >> write
    finalize = FinalizeStreamingRun(run) if cfg.streaming else FinalizeRun(run)
    manifest = (files, decoded.dead_letter) | "FinalizeRun" >> finalize
    add_extra_consumers(cfg, rows, manifest)
    return BuiltPipeline(run, manifest)


def add_extra_consumers(cfg: PipelineConfig, rows: beam.PCollection, manifest: beam.PCollection) -> None:
    """The consumers beside SaveToParquet, fed the same decoded rows (DuckDB: the archive, at run end)."""
    from beam_pipeline.consumers import DuckDBSinkConfig, PostgresSinkConfig, RedisSinkConfig
    from beam_pipeline.sinks.preflight import consumer_schemas

    if not cfg.extra_consumers:
        return
    # A stage boundary: chunks may point into the decode step's spill files, which are complete only
    # once its bundle finishes (the Parquet sink reads them after its GroupByKey for the same reason).
    rows = rows | "ConsumersAfterDecode" >> beam.Reshuffle()
    sink = cfg.sink
    schemas = consumer_schemas(cfg)
    for i, consumer in enumerate(cfg.extra_consumers):
        label = f"Consumer{i + 1}{type(consumer).__name__.removesuffix('Config')}"
        if isinstance(consumer, DuckDBSinkConfig):
            from beam_pipeline.sinks.duckdb_sink import RefreshDuckDB

            manifest | label >> RefreshDuckDB(consumer, sink.root, cfg.processors, sink.dry_run)
        elif isinstance(consumer, PostgresSinkConfig):
            from beam_pipeline.sinks.postgres import WriteToPostgres

            rows | label >> WriteToPostgres(consumer, schemas)
        elif isinstance(consumer, RedisSinkConfig):
            from beam_pipeline.sinks.redis_sink import WriteToRedis

            rows | label >> WriteToRedis(consumer, schemas)
        else:
            from beam_pipeline.sinks.stdout_sink import WriteToStdout

            rows | label >> WriteToStdout(consumer, schemas)

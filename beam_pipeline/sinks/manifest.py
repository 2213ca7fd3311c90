"""The end of a run: its manifest, its dead letters, and the removal of its temporary files.

A manifest is ``{root}/_manifests/{run_id}.json``: what the run was asked to do and every file it
made final or deleted, with sizes and checksums, so that `verify` can check an archive against
it. Dead letters (``on_error: dead_letter``) go to ``{root}/_dead_letter/{run_id}.parquet``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.transforms.window import GlobalWindows

from beam_pipeline.sinks import commit, table_formats
from beam_pipeline.sinks.commit import FileRecord, PartitionPlan, temp_root
from beam_pipeline.util import fs

MANIFEST_DIR = "_manifests"
DEAD_LETTER_DIR = "_dead_letter"
MANIFEST_VERSION = 1

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),  # object key or RPC ledger range
        pa.field("ledger", pa.uint32()),
        pa.field("error_class", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class RunInfo:
    """What a run is, fixed when the pipeline is built (picklable, no secrets)."""

    run_id: str
    pipeline_name: str
    started_at: str
    start_ledger: int
    end_ledger: int | None
    source: str
    runner: str
    config_digest: str
    config_file: str
    tables: tuple[str, ...]
    root: str
    dry_run: bool = False
    # The archive layout, so readers (verify) need not guess it: partition_by, ledgers_per_file, ...
    layout: tuple[tuple[str, object], ...] = ()
    # The network the ledgers came from (the data store's or RPC server's): `verify --chain` checks it.
    network_passphrase: str = ""
    # The processors' row filters, (table, filter as JSON): such tables hold only the rows kept.
    filters: tuple[tuple[str, str], ...] = ()


def manifest_path(root: str, run_id: str) -> str:
    return fs.join(root, MANIFEST_DIR, f"{run_id}.json")


def build_manifest(run: RunInfo, files: list[FileRecord], dead_letters: int) -> dict:
    live = [f for f in files if f.action != "deleted"]
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run.run_id,
        "pipeline": run.pipeline_name,
        "config_file": run.config_file,
        "config_digest": run.config_digest,
        "source": run.source,
        "network_passphrase": run.network_passphrase,
        "runner": run.runner,
        "ledger_range": {"start": run.start_ledger, "end": run.end_ledger},
        "tables": list(run.tables),
        "filters": {table: json.loads(f) for table, f in run.filters},
        "layout": dict(run.layout),
        "started_at": run.started_at,
        "finished_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "dry_run": run.dry_run,
        "dead_letters": dead_letters,
        "files": [
            {
                "path": f.path,
                "table": f.table,
                "partition": f.partition,
                "ledger_range": [f.first, f.last],
                "rows": f.rows,
                "bytes": f.bytes,
                "sha256": f.sha256,
                "schema_version": f.schema_version,
                "action": f.action,
            }
            for f in sorted(live, key=lambda f: f.path)
        ],
        "replaced": sorted(f.path for f in files if f.action == "deleted"),
    }


def run_files(run: RunInfo, manifest: dict, dead_letters: list) -> dict[str, bytes]:
    """The small files a run writes with its commit: its manifest and (if any) its dead letters."""
    out = {}
    if dead_letters:
        table = pa.Table.from_pylist(
            [
                {"run_id": run.run_id, "unit": d.unit, "ledger": d.ledger, "error_class": d.error_class,
                 "message": d.message}
                for d in dead_letters
            ],
            schema=DEAD_LETTER_SCHEMA,
        )
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        out[fs.join(run.root, DEAD_LETTER_DIR, f"{run.run_id}.parquet")] = sink.getvalue().to_pybytes()
    out[manifest_path(run.root, run.run_id)] = json.dumps(manifest, indent=1).encode()
    return out


def finalize_streaming(files: list[FileRecord], dead_letters: list, run: RunInfo) -> dict:
    """Writes the manifest of a run whose files are already final (the streaming sink's panes)."""
    manifest = build_manifest(run, files, len(dead_letters))
    if not run.dry_run:
        for path, data in run_files(run, manifest, dead_letters).items():
            fs.write_bytes(path, data)
        fs.delete_tree(temp_root(run.root, run.run_id))
    return manifest


def _schema_plans(plans: list[PartitionPlan], run: RunInfo) -> list[PartitionPlan]:
    """Zero-row file sets for the run's tables that have no file anywhere (see `empty_tables`)."""
    from beam_pipeline.sinks.empty_tables import plan_schema_files

    layout = dict(run.layout)
    if run.dry_run or "partition_by" not in layout:
        return []
    written: dict[str, list[tuple[str, int, int]]] = {}
    for f in (r for plan in plans for r in plan.records):
        if f.action in ("written", "carried"):
            written.setdefault(f.table, []).append((f.partition, f.first, f.last))
    return plan_schema_files(run.root, run.run_id, run.tables, layout, (run.start_ledger, run.end_ledger), written)


def _apply_and_finalize(plans: list[PartitionPlan], dead_letters: list, run: RunInfo) -> dict:
    """Applies every partition's plan and writes the manifest in one commit (see `commit.apply_plans`)."""
    plans = list(plans) + _schema_plans(plans, run)
    files = [r for plan in plans for r in plan.records]
    manifest = build_manifest(run, files, len(dead_letters))
    if not run.dry_run:
        fmt = table_formats.from_layout(dict(run.layout))
        commit.apply_plans(run.root, run.run_id, plans, run_files(run, manifest, dead_letters),
                           table_format=dict(fmt.as_dict(), tables=list(run.tables)) if fmt else None)
    return manifest


class FinalizeRun(beam.PTransform):
    """(partition plans, dead letters) -> one manifest dict, once every plan is applied."""

    def __init__(self, run: RunInfo):
        super().__init__()
        self._run = run

    def expand(self, pcolls):
        files, dead = pcolls
        all_files = (
            files
            | "FilesToGlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "CollectFiles" >> beam.combiners.ToList()
        )
        all_dead = (
            dead
            | "DeadToGlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "CollectDeadLetters" >> beam.combiners.ToList()
        )
        return all_files | "WriteManifest" >> beam.Map(_apply_and_finalize, beam.pvalue.AsSingleton(all_dead),
                                                       self._run)

"""The end-of-run summary, from Beam metrics (the same counters the Dataflow UI shows)."""

from __future__ import annotations

from apache_beam.metrics.metric import MetricsFilter

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import PipelineConfig


def query_metrics(result) -> dict[str, int]:
    """Committed (or attempted, where committed is unsupported) counter values by name."""
    out: dict[str, int] = {}
    counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    for c in counters:
        try:
            value = c.committed
        except Exception:  # noqa: BLE001 - some runners only report attempted values
            value = None
        if value is None:
            value = c.attempted
        out[c.key.metric.name] = out.get(c.key.metric.name, 0) + int(value or 0)
    return out


def format_summary(run, cfg: PipelineConfig, metrics: dict[str, int], elapsed: float) -> str:
    ledgers = metrics.get("ledgers", 0)
    verb = "would write" if cfg.sink.dry_run else "wrote"
    lines = [
        f"run {run.run_id} ({run.pipeline_name}): {run.source}",
        f"  ledgers {run.start_ledger}-{run.end_ledger}: {ledgers} archived in {elapsed:.1f}s"
        f" ({ledgers / elapsed if elapsed > 0 else 0:.1f} ledgers/s)",
    ]
    for table in cfg.processors:
        lines.append(f"  {table:<24} {metrics.get('rows_' + table, 0):>12,} rows")
    lines.append(
        f"  {verb} {metrics.get('files_written', 0)} files, {metrics.get('bytes_written', 0):,} bytes"
        f" under {cfg.sink.root}"
        + (f"; replaced {metrics['files_replaced']} older files" if metrics.get("files_replaced") else "")
    )
    retries = {k: metrics.get(k, 0) for k in ("read_retries", "rpc_retries", "write_retries") if metrics.get(k)}
    if retries:
        lines.append(f"  retries: {sum(retries.values())} ({', '.join(f'{k} {v}' for k, v in retries.items())})")
    if metrics.get("dead_letters"):
        lines.append(f"  DEAD LETTERS: {metrics['dead_letters']} units failed; see {cfg.sink.root}/_dead_letter/")
    if not cfg.sink.dry_run:
        lines.append(f"  manifest: {cfg.sink.root}/_manifests/{run.run_id}.json")
    return "\n".join(lines)


def print_summary(run, cfg: PipelineConfig, metrics: dict[str, int], elapsed: float) -> None:
    print(format_summary(run, cfg, metrics, elapsed), flush=True)

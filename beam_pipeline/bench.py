"""Benchmark: what the pipeline costs compared with decoding alone, on the same data in one run.

    python -m beam_pipeline bench [--data DIR ...] [--scale N ...] [--repeat K] [--out FILE]

For every data store (the given ones, plus a scaled store built by renumbering real ledgers into
a long consecutive range, once per ``--scale``) it measures:

1. read + zstd only: MB/s of uncompressed XDR;
2. decode only with stellar_sdk (``LedgerCloseMetaBatch.from_xdr_bytes``), the baseline; the
   same with the cyclic garbage collector paused around each object; and the pipeline's own
   decode (the fast path of `beam_pipeline.xdr.fast`, collector paused, as decode.py runs it);
3. the full pipeline (ledgers, transactions, operations, contract_events, contract_data -> Parquet
   zstd on local disk) in a child process, on the FnApiRunner in one process and with two worker
   processes: ledgers/s, rows/s, MB/s, the peak RSS summed over the child's process tree and
   that of its largest process (a worker);
4. ratios: full single-process / decode-only, multi-process / single-process.

Across the scaled stores it also reports the start-up (the pipeline on one ledger), how time and
memory grow with the range, and the steady-state ratios: the marginal cost per added ledger
between the smallest and largest store, where the start-up cancels out (`scaling_summary`).

Timings are medians of ``--repeat`` runs. Machine load (``/proc/loadavg``) is recorded before and
after, because on a shared machine only ratios measured in the same run mean much. No part of
this is a test: nothing asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zstandard

TABLES = ("ledgers", "transactions", "operations", "contract_events", "contract_data")
DEFAULT_DATA = ("mainnet-p22-56065483", "standalone-p25-loadtest")
SCALE_SOURCE = "testnet-p19-lpf64"
MULTI_ARGS = ("--direct_num_workers=2", "--direct_running_mode=multi_processing")


def _shared_datastores() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared" / "ledgers" / "datastores"


# ---------------------------------------------------------------------------------------------
# Data stores


def objects_of(root: str) -> list[str]:
    return sorted(
        glob.glob(f"{root}/**/*.xdr.zst", recursive=True) + glob.glob(f"{root}/**/*.xdr.zstd", recursive=True)
    )


def read_manifest(root: str) -> dict:
    return json.loads(Path(root, ".config.json").read_text())


def ledger_range(blobs: list[bytes]) -> tuple[int, int, int]:
    """(first, last, count) of the ledgers in decompressed LedgerCloseMetaBatch blobs (header only)."""
    firsts, lasts = [], []
    for b in blobs:
        firsts.append(int.from_bytes(b[0:4], "big"))
        lasts.append(int.from_bytes(b[4:8], "big"))
    distinct = {(f, la) for f, la in zip(firsts, lasts, strict=True)}
    return min(firsts), max(lasts), sum(la - f + 1 for f, la in distinct)


def build_scaled_store(dest: str, source: str, base: int, scale: int, ledgers_per_batch: int = 8) -> str:
    """Writes ``base * scale`` consecutive ledgers, renumbered copies of `source`'s first `base`.

    Each copy gets a new ledgerSeq, a close time 5 s after its predecessor, the predecessor's hash
    as previousLedgerHash and its own header hash, so the chain is consistent. Transaction sets,
    results and metas are unchanged: with the same network passphrase, envelopes still pair with
    their results by hash. Batches of `ledgers_per_batch` ledgers sit at their SEP-54 keys.
    """
    from stellar_sdk import xdr

    from beam_pipeline.sources import sep54
    from beam_pipeline.xdr.ledger import lcm_body

    manifest = read_manifest(source)
    lcms = []
    for path in sorted(objects_of(source), reverse=True):  # inverted-hex keys: lowest ledger first
        batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(_decompress(Path(path).read_bytes()))
        lcms.extend(batch.ledger_close_metas)
        if len(lcms) >= base:
            break
    lcms = lcms[:base]
    if not lcms:
        raise ValueError(f"{source}: no ledgers")
    body = lcm_body(lcms[0])
    first = body.ledger_header.header.ledger_seq.uint32
    close0 = body.ledger_header.header.scp_value.close_time.time_point.uint64
    prev_hash = body.ledger_header.header.previous_ledger_hash.hash
    partition = 1000
    Path(dest).mkdir(parents=True, exist_ok=True)
    Path(dest, ".config.json").write_text(
        json.dumps(
            {
                "networkPassphrase": manifest["networkPassphrase"],
                "version": "1.0",
                "compression": "zstd",
                "ledgersPerBatch": ledgers_per_batch,
                "batchesPerPartition": partition,
            }
        )
    )
    total = base * scale
    encoded: list[bytes] = []
    cctx = zstandard.ZstdCompressor(level=3)
    for i in range(total):
        lcm = lcms[i % base]
        entry = lcm_body(lcm).ledger_header
        header = entry.header
        header.ledger_seq = xdr.Uint32(first + i)
        header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(close0 + 5 * i))
        header.previous_ledger_hash = xdr.Hash(prev_hash)
        prev_hash = hashlib.sha256(header.to_xdr_bytes()).digest()
        entry.hash = xdr.Hash(prev_hash)
        encoded.append(lcm.to_xdr_bytes())
        seq = first + i
        if (seq + 1) % ledgers_per_batch == 0 or i == total - 1:
            start = seq - len(encoded) + 1
            key = sep54.object_key(start, ledgers_per_batch, partition, "zst")
            data = (
                start.to_bytes(4, "big") + seq.to_bytes(4, "big") + len(encoded).to_bytes(4, "big") + b"".join(encoded)
            )
            out = Path(dest, key)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(cctx.compress(data))
            encoded = []
    return dest


def _decompress(data: bytes, what: str = "benchmark object") -> bytes:
    from beam_pipeline.xdr.compression import decompress

    return decompress(data, what, 1 << 30)  # the pipeline's bound at the default max_object_size_mb


# ---------------------------------------------------------------------------------------------
# In-process phases


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_in_process(root: str, repeat: int) -> dict:
    """Read + zstd, decode with stellar_sdk, decode with the fast path; medians of `repeat` runs."""
    from stellar_sdk import xdr

    from beam_pipeline.xdr import fast

    paths = objects_of(root)
    blobs: list[bytes] = []

    def read():
        blobs[:] = [_decompress(Path(p).read_bytes()) for p in paths]

    read_s = _median_time(read, repeat)
    first, last, ledgers = ledger_range(blobs)
    mb = sum(len(b) for b in blobs) / 1e6
    # Each batch is dropped once decoded, as the pipeline drops it: keeping every decoded ledger of
    # the range alive would make the garbage collector's passes grow with the range (an earlier
    # version did, and measured decode-only 30 % slower on 1024 ledgers than on 64).
    sdk_s = _median_time(lambda: _decode_each(xdr.LedgerCloseMetaBatch.from_xdr_bytes, blobs), repeat)
    # The pipeline decodes with the fast path while the cyclic collector is paused (decode.py);
    # stellar_sdk with the same pause separates what the pause buys from what the decoder does.
    sdk_paused_s = _median_time(
        lambda: _decode_each(xdr.LedgerCloseMetaBatch.from_xdr_bytes, blobs, gc_paused=True), repeat
    )
    fast_s = _median_time(lambda: _decode_each(fast.decode_batch, blobs, gc_paused=True), repeat)
    return {
        "first_ledger": first,
        "last_ledger": last,
        "ledgers": ledgers,
        "objects": len(paths),
        "xdr_mb": round(mb, 3),
        "read": _rates(read_s, ledgers, mb),
        "decode_sdk": _rates(sdk_s, ledgers, mb),
        "decode_sdk_gc_paused": _rates(sdk_paused_s, ledgers, mb),
        "decode_fast": _rates(fast_s, ledgers, mb),
    }


def _decode_each(decode, blobs: list[bytes], gc_paused: bool = False) -> None:
    from beam_pipeline.decode import gc_paused as paused

    for b in blobs:
        with paused() if gc_paused else contextlib.nullcontext():
            decode(b)


def _rates(seconds: float, ledgers: int, mb: float, rows: int | None = None) -> dict:
    out = {
        "seconds": round(seconds, 4),
        "ledgers_per_s": round(ledgers / seconds, 2),
        "mb_per_s": round(mb / seconds, 3),
    }
    if rows is not None:
        out["rows_per_s"] = round(rows / seconds, 1)
    return out


# ---------------------------------------------------------------------------------------------
# The full pipeline, in a child process whose tree's memory is sampled


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of `pid` and all its descendants, and of the largest of them (from /proc)."""
    total, largest, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
                        total, largest = total + rss, max(largest, rss)
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total, largest


def run_pipeline(root: str, first: int, last: int, workdir: str, extra: tuple[str, ...], decode: str = "fast") -> dict:
    """One run of ``beam_pipeline run`` in a child: seconds (without interpreter start), rows, peak RSS."""
    import yaml

    out = Path(workdir, "out")
    shutil.rmtree(out, ignore_errors=True)
    cfg = {
        "pipeline": {
            "name": "bench",
            "source": {"type": "datastore", "config": {"path": root, "start_ledger": first, "end_ledger": last}},
            "processors": [{"type": t} for t in TABLES],
            "consumers": [
                {
                    "type": "SaveToParquet",
                    "config": {
                        "storage_type": "FS",
                        "local_path": str(out),
                        "partition_by": "ledger_day",
                        "compression": "zstd",
                    },
                }
            ],
        }
    }
    cfg_path = Path(workdir, "bench.yaml")
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    timing = Path(workdir, "timing.json")
    env = dict(os.environ, BEAM_PIPELINE_DECODE=decode)
    cmd = [
        sys.executable,
        "-m",
        "beam_pipeline.bench",
        "--child",
        str(timing),
        "run",
        "--config",
        str(cfg_path),
        *extra,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = peak_process = 0
    stop = threading.Event()

    def sample():
        nonlocal peak, peak_process
        while not stop.is_set():
            total, largest = _tree_rss(proc.pid)
            peak, peak_process = max(peak, total), max(peak_process, largest)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline run failed ({proc.returncode}): {err[-2000:]}")
    rows = _count_rows(out)
    return {
        "seconds": json.loads(timing.read_text())["seconds"],
        "rows": rows,
        "peak_rss_mb": round(peak / 2**20, 1),
        "peak_process_rss_mb": round(peak_process / 2**20, 1),
    }


def _count_rows(root: Path) -> int:
    import pyarrow.parquet as pq

    return sum(
        pq.ParquetFile(p).metadata.num_rows
        for p in glob.glob(f"{root}/*/**/*.parquet", recursive=True)
        if "/_" not in p[len(str(root)) :]
    )


def _child(argv: list[str]) -> int:
    """Runs the CLI in this process and writes how long the run took, imports excluded."""
    timing, rest = argv[0], argv[1:]
    # Everything `run` imports is imported before the clock starts (the decode-only figures do not
    # count importing stellar_sdk either); what is timed is building and running the job.
    import apache_beam  # noqa: F401
    import apache_beam.io.filesystems  # noqa: F401

    import beam_pipeline.pipeline  # noqa: F401 - sources, decode, records, sinks, stellar_sdk, pyarrow
    import beam_pipeline.summary  # noqa: F401
    from beam_pipeline import cli

    t0 = time.perf_counter()
    rc = cli.main(rest)
    Path(timing).write_text(json.dumps({"seconds": time.perf_counter() - t0, "rc": rc}))
    return rc


def measure_pipeline(
    root: str, first: int, last: int, repeat: int, extra: tuple[str, ...], decode: str = "fast"
) -> dict:
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as work:
        for _ in range(repeat):
            runs.append(run_pipeline(root, first, last, work, extra, decode))
    return {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "runs": [round(r["seconds"], 3) for r in runs],
        "rows": runs[0]["rows"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_process_rss_mb": max(r["peak_process_rss_mb"] for r in runs),
    }


# ---------------------------------------------------------------------------------------------
# Driver


def machine() -> dict:
    import apache_beam
    import pyarrow
    import stellar_sdk

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(
            next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")).split()[1]
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "beam": apache_beam.__version__,
        "pyarrow": pyarrow.__version__,
        "stellar_sdk": stellar_sdk.__version__,
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bench_dataset(name: str, root: str, args) -> dict:
    print(f"[bench] {name}: in-process phases", file=sys.stderr, flush=True)
    res = {"name": name, "path": root, **measure_in_process(root, args.repeat)}
    first, last = res["first_ledger"], res["last_ledger"]
    ledgers, mb = res["ledgers"], res["xdr_mb"]
    modes = [("single", ())]
    if not args.no_multi:
        modes.append(("multi", MULTI_ARGS))
    if args.compare_sdk:
        modes.append(("single_sdk_decode", ()))
    if args.compare_in_memory:
        modes.append(("single_in_memory", ("--local_spill_dir=none",)))
    for mode, extra in modes:
        print(f"[bench] {name}: pipeline {mode}", file=sys.stderr, flush=True)
        decode = "sdk" if mode.endswith("sdk_decode") else "fast"
        run = measure_pipeline(root, first, last, args.pipeline_repeat or args.repeat, extra, decode)
        res[mode] = {**run, **_rates(run["seconds"], ledgers, mb, run["rows"])}
    ratios = {
        "single_over_decode": round(res["decode_sdk"]["seconds"] / res["single"]["seconds"], 3),
        "fast_decode_speedup": round(res["decode_sdk"]["seconds"] / res["decode_fast"]["seconds"], 3),
        "gc_pause_speedup": round(res["decode_sdk"]["seconds"] / res["decode_sdk_gc_paused"]["seconds"], 3),
    }
    if "multi" in res:
        ratios["multi_over_single"] = round(res["single"]["seconds"] / res["multi"]["seconds"], 3)
    if "single_sdk_decode" in res:
        ratios["fast_over_sdk_pipeline"] = round(res["single_sdk_decode"]["seconds"] / res["single"]["seconds"], 3)
    if "single_in_memory" in res:
        ratios["spill_over_in_memory_time"] = round(res["single"]["seconds"] / res["single_in_memory"]["seconds"], 3)
        ratios["spill_over_in_memory_rss"] = round(
            res["single"]["peak_rss_mb"] / res["single_in_memory"]["peak_rss_mb"], 3
        )
    res["ratios"] = ratios
    return res


def print_table(report: dict, file=sys.stdout) -> None:
    cols = (
        "data store",
        "ledgers",
        "XDR MB",
        "read MB/s",
        "sdk decode l/s",
        "sdk, gc paused l/s",
        "fast decode l/s",
        "single l/s",
        "single rows/s",
        "single MB/s",
        "single RSS MB",
        "multi l/s",
        "multi RSS MB",
        "largest worker MB",
        "single/decode",
        "multi/single",
        "fast/sdk decode",
    )
    lines = [cols]
    for d in report["datasets"]:
        s, m, r = d["single"], d.get("multi", {}), d["ratios"]
        lines.append(
            (
                d["name"],
                str(d["ledgers"]),
                f"{d['xdr_mb']:.2f}",
                f"{d['read']['mb_per_s']:.1f}",
                f"{d['decode_sdk']['ledgers_per_s']:.2f}",
                f"{d['decode_sdk_gc_paused']['ledgers_per_s']:.2f}",
                f"{d['decode_fast']['ledgers_per_s']:.2f}",
                f"{s['ledgers_per_s']:.2f}",
                f"{s['rows_per_s']:.0f}",
                f"{s['mb_per_s']:.2f}",
                f"{s['peak_rss_mb']:.0f}",
                f"{m['ledgers_per_s']:.2f}" if m else "-",
                f"{m['peak_rss_mb']:.0f}" if m else "-",
                f"{m['peak_process_rss_mb']:.0f}" if m else "-",
                f"{r['single_over_decode']:.2f}x",
                f"{r['multi_over_single']:.2f}x" if "multi_over_single" in r else "-",
                f"{r['fast_decode_speedup']:.2f}x",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(cols))]
    for i, row in enumerate(lines):
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |", file=file)
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=file)
    for d in report["datasets"]:
        if "single_in_memory" in d:
            mem, r = d["single_in_memory"], d["ratios"]
            print(
                f"{d['name']}: shuffle in the runner's memory {mem['seconds']:.2f}s, {mem['peak_rss_mb']:.0f} MB; "
                f"spilled {d['single']['seconds']:.2f}s ({r['spill_over_in_memory_time']:.2f}x), "
                f"{d['single']['peak_rss_mb']:.0f} MB ({r['spill_over_in_memory_rss']:.2f}x)",
                file=file,
            )
        if "single_sdk_decode" in d:
            print(
                f"{d['name']}: pipeline with plain stellar_sdk decode {d['single_sdk_decode']['seconds']:.2f}s, "
                f"with the fast path {d['single']['seconds']:.2f}s "
                f"({d['ratios']['fast_over_sdk_pipeline']:.2f}x)",
                file=file,
            )
    scaling = report.get("scaling") or {}
    if scaling.get("by_scale"):
        print(
            "scaling (vs the 1x store): "
            + ", ".join(
                f"{k}: time {v['time_ratio']:.2f}x"
                + (f" ({v['time_beyond_startup_ratio']:.2f}x beyond start-up)" if "time_beyond_startup_ratio" in v
                   else "")
                + f", RSS {v['rss_ratio']:.2f}x"
                + (f" (in memory: {v['single_in_memory_rss_ratio']:.2f}x)" if "single_in_memory_rss_ratio" in v else "")
                for k, v in scaling["by_scale"].items()
            ),
            file=file,
        )
    if scaling.get("startup_seconds"):
        floor = scaling.get("beam_floor_seconds") or {}
        print(
            "start-up (pipeline on one ledger): "
            + ", ".join(
                f"{k} {v:.2f}s" + (f" (a trivial Beam job: {floor[k]:.2f}s)" if k in floor else "")
                for k, v in scaling["startup_seconds"].items()
            ),
            file=file,
        )
    for step in scaling.get("marginal_ms_per_ledger", ()):
        a, b = step["from_to_ledgers"]
        print(
            f"ms per added ledger, {a} -> {b}: "
            + ", ".join(f"{k} {v:.2f}" for k, v in step.items() if k != "from_to_ledgers"),
            file=file,
        )
    steady = scaling.get("steady_state")
    if steady:
        a, b = steady["from_to_ledgers"]
        print(
            f"steady state ({a} -> {b} ledgers, ms per added ledger: "
            + ", ".join(f"{k} {v:.2f}" for k, v in steady["ms_per_ledger"].items())
            + f"): single/decode {steady['single_over_decode']:.2f}x"
            + (f", multi/single {steady['multi_over_single']:.2f}x" if "multi_over_single" in steady else "")
            + f", fast/sdk decode {steady['fast_over_sdk_decode']:.2f}x",
            file=file,
        )
    print(f"load average before/after: {report['load_before']} / {report['load_after']}", file=file)


def _floor_pipeline(timing: str, beam_args: list[str]) -> int:
    """A trivial job (64 numbers, a map, a GroupByKey) on the same runner: Beam's own fixed cost."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    t0 = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions(beam_args)) as p:
        pairs = p | beam.Create(range(64)) | beam.Map(lambda n: (n % 4, n))
        _ = pairs | beam.GroupByKey() | beam.MapTuple(lambda k, ns: len(list(ns)))
    Path(timing).write_text(json.dumps({"seconds": time.perf_counter() - t0, "rc": 0}))
    return 0


def measure_beam_floor(args) -> dict:
    """Seconds of the trivial job per runner mode (median): what any pipeline pays before its data."""
    out = {}
    modes = [("single", ())] + ([] if args.no_multi else [("multi", MULTI_ARGS)])
    for mode, extra in modes:
        print(f"[bench] Beam's floor: trivial job, {mode}", file=sys.stderr, flush=True)
        runs = []
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as work:
            timing = Path(work, "timing.json")
            for _ in range(args.pipeline_repeat or args.repeat):
                cmd = [sys.executable, "-m", "beam_pipeline.bench", "--child-floor", str(timing), *extra]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs.append(json.loads(timing.read_text())["seconds"])
        out[mode] = round(statistics.median(runs), 3)
    return out


def measure_startup(root: str, ledger: int, args) -> dict:
    """The pipeline on a one-ledger range: the fixed cost (graph, runner, workers) of any run."""
    out = {}
    modes = [("single", ())] + ([] if args.no_multi else [("multi", MULTI_ARGS)])
    for mode, extra in modes:
        print(f"[bench] start-up: pipeline {mode} on ledger {ledger}", file=sys.stderr, flush=True)
        out[mode] = measure_pipeline(root, ledger, ledger, args.pipeline_repeat or args.repeat, extra)["seconds"]
    return out


def scaling_summary(datasets: list[dict], startup: dict | None = None, beam_floor: dict | None = None) -> dict:
    """How time and memory grow with the range, and the steady-state (per-ledger) ratios.

    A whole run pays a fixed start-up (building the graph, starting the runner and its workers)
    that decoding alone does not, so on short ranges its ratios say more about start-up than
    about throughput. The steady-state ratios compare the *marginal* cost per ledger between the
    smallest and the largest scaled store, where that fixed cost cancels out: what a backfill of
    millions of ledgers pays. The marginal cost of each step between consecutive scaled stores
    shows whether a ledger costs more in a longer range (it should not). `beam_floor`, a
    trivial job on the same runner, is the part of the start-up that is Beam's own.
    """
    scaled = sorted((d for d in datasets if d.get("scale")), key=lambda d: d["ledgers"])
    base = next((d for d in scaled if d["scale"] == 1), None)
    if base is None:
        return {}
    fixed = (startup or {}).get("single")
    out: dict = {"by_scale": {}}
    for d in scaled:
        row = {
            "ledgers": d["ledgers"],
            "time_ratio": round(d["single"]["seconds"] / base["single"]["seconds"], 3),
            "rss_ratio": round(d["single"]["peak_rss_mb"] / base["single"]["peak_rss_mb"], 3),
        }
        for mode in ("multi", "single_in_memory"):
            if "peak_rss_mb" in d.get(mode, {}) and "peak_rss_mb" in base.get(mode, {}):
                row[f"{mode}_rss_ratio"] = round(d[mode]["peak_rss_mb"] / base[mode]["peak_rss_mb"], 3)
        if fixed is not None and base["single"]["seconds"] > fixed:
            row["time_beyond_startup_ratio"] = round(
                (d["single"]["seconds"] - fixed) / (base["single"]["seconds"] - fixed), 3
            )
        out["by_scale"][f"{d['scale']}x"] = row
    if startup:
        out["startup_seconds"] = startup
    if beam_floor:
        out["beam_floor_seconds"] = beam_floor
    out["marginal_ms_per_ledger"] = [
        {
            "from_to_ledgers": [a["ledgers"], b["ledgers"]],
            **{
                mode: round((b[mode]["seconds"] - a[mode]["seconds"]) * 1000 / (b["ledgers"] - a["ledgers"]), 3)
                for mode in ("decode_sdk", "single", "multi")
                if mode in a and mode in b
            },
        }
        for a, b in zip(scaled, scaled[1:], strict=False)
        if b["ledgers"] > a["ledgers"]
    ]
    small, large = scaled[0], scaled[-1]
    added = large["ledgers"] - small["ledgers"]
    if added <= 0:
        return out

    def per_ledger(key: str) -> float | None:
        if key not in small or key not in large:
            return None
        return max(large[key]["seconds"] - small[key]["seconds"], 1e-9) / added

    marginal = {k: per_ledger(k) for k in ("decode_sdk", "decode_sdk_gc_paused", "decode_fast", "single", "multi")}
    steady = {
        "from_to_ledgers": [small["ledgers"], large["ledgers"]],
        "ms_per_ledger": {k: round(v * 1000, 3) for k, v in marginal.items() if v is not None},
        "single_over_decode": round(marginal["decode_sdk"] / marginal["single"], 3),
        "fast_over_sdk_decode": round(marginal["decode_sdk"] / marginal["decode_fast"], 3),
    }
    if marginal["multi"] is not None:
        steady["multi_over_single"] = round(marginal["single"] / marginal["multi"], 3)
    out["steady_state"] = steady
    return out


def plot(report: dict, path: str) -> bool:
    """Throughput and peak memory against range size; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    scaled = sorted((d for d in report["datasets"] if d.get("scale")), key=lambda d: d["ledgers"])
    if not scaled:
        return False
    x = [d["ledgers"] for d in scaled]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(x, [d["decode_sdk"]["ledgers_per_s"] for d in scaled], "o-", label="decode only (stellar_sdk)")
    fast = [d["decode_fast"]["ledgers_per_s"] for d in scaled]
    a.plot(x, fast, "o-", label="pipeline's decode (fast path, gc paused)")
    a.plot(x, [d["single"]["ledgers_per_s"] for d in scaled], "s-", label="pipeline, 1 process")
    if all("multi" in d for d in scaled):
        a.plot(x, [d["multi"]["ledgers_per_s"] for d in scaled], "^-", label="pipeline, 2 processes")
    a.set(xscale="log", xlabel="ledgers in range", ylabel="ledgers / s", title="Throughput")
    a.legend(fontsize=8)
    b.plot(x, [d["single"]["peak_rss_mb"] for d in scaled], "s-", label="1 process")
    if all("multi" in d for d in scaled):
        b.plot(x, [d["multi"]["peak_rss_mb"] for d in scaled], "^-", label="2 processes (tree)")
    if all("single_in_memory" in d for d in scaled):
        in_memory = [d["single_in_memory"]["peak_rss_mb"] for d in scaled]
        b.plot(x, in_memory, "s:", color="grey", label="1 process, shuffle in memory (no spill)")
    b.set(xscale="log", xlabel="ledgers in range", ylabel="peak RSS, MB", title="Peak memory", ylim=(0, None))
    b.legend(fontsize=8)
    for ax in (a, b):  # the measured sizes as ticks: log-scale minor labels collide
        ax.minorticks_off()
        ax.set_xticks(x, [f"{n:,}" for n in x])
    fig.suptitle(f"{SCALE_SOURCE} renumbered; {report['machine']['nproc']} cores, load {report['load_before']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        action="append",
        help="a data store directory (repeatable); default: "
        + ", ".join(DEFAULT_DATA)
        + " from ../shared/ledgers/datastores",
    )
    parser.add_argument(
        "--scale",
        action="append",
        type=int,
        help="build a scaled store of BASE*N renumbered ledgers (repeatable; default 1 4 16)",
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the scaled data stores")
    parser.add_argument("--scale-source", default=None, help=f"store to renumber (default {SCALE_SOURCE})")
    parser.add_argument("--base", type=int, default=256, help="ledgers of the 1x scaled store (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--pipeline-repeat", type=int, default=None, help="runs per pipeline measurement")
    parser.add_argument("--no-multi", action="store_true", help="skip the 2-process pipeline runs")
    parser.add_argument(
        "--compare-sdk", action="store_true", help="also run the pipeline with plain stellar_sdk decode"
    )
    parser.add_argument(
        "--compare-in-memory",
        action="store_true",
        help="also run the pipeline with the shuffle in the runner's memory (--local_spill_dir=none)",
    )
    parser.add_argument("--out", default="benchmarks/results.json", help="JSON results file")
    parser.add_argument("--plot", default=None, help="PNG plot of the scaled stores (needs matplotlib)")


def run(args) -> int:
    shared = _shared_datastores()
    data = [
        (Path(d).name, str(Path(d) if os.sep in d or Path(d).exists() else shared / d))
        for d in (args.data or DEFAULT_DATA)
    ]
    report = {
        "machine": machine(),
        "load_before": loadavg(),
        "tables": list(TABLES),
        "repeat": args.repeat,
        "datasets": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-stores-") as tmp:
        for name, root in data:
            report["datasets"].append(bench_dataset(name, root, args))
        if not args.no_scale:
            source = args.scale_source or str(shared / SCALE_SOURCE)
            for n in args.scale or (1, 4, 16):
                dest = os.path.join(tmp, f"scaled-{n}x")
                print(f"[bench] building {dest}: {args.base * n} ledgers", file=sys.stderr, flush=True)
                build_scaled_store(dest, source, args.base, n)
                d = bench_dataset(f"{Path(source).name} x{n}", dest, args)
                if "startup" not in report:
                    report["startup"] = measure_startup(dest, d["first_ledger"], args)
                d["scale"] = n
                d["path"] = f"<temp>/scaled-{n}x"
                report["datasets"].append(d)
                shutil.rmtree(dest, ignore_errors=True)
    report["beam_floor"] = measure_beam_floor(args)
    report["scaling"] = scaling_summary(report["datasets"], report.get("startup"), report["beam_floor"])
    report["load_after"] = loadavg()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    if args.plot:
        print(f"plot: {args.plot}" if plot(report, args.plot) else "plot skipped: pip install matplotlib")
    return 0


def main(argv: list[str]) -> int:
    from beam_pipeline.argcheck import StrictParser

    parser = StrictParser(prog="python -m beam_pipeline bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--child-floor":
        sys.exit(_floor_pipeline(sys.argv[2], sys.argv[3:]))
    sys.exit(main(sys.argv[1:]))

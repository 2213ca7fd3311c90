"""The full pipeline in a child process whose tree's memory is sampled; Beam's floor and the start-up.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.phases import MULTI_ARGS, TABLES


def child_env() -> dict[str, str]:
    """This environment, with the checkout first on PYTHONPATH: children run ``-m benchmarks`` from any directory."""
    checkout = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=checkout + (os.pathsep + path if path else ""))


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
    env = dict(child_env(), BEAM_PIPELINE_DECODE=decode)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "--child",
        str(timing),
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


def child(argv: list[str]) -> int:
    """Runs the job (`beam_pipeline.job.run`) in this process and writes how long it took, imports excluded."""
    timing, rest = argv[0], argv[1:]
    # Everything `run` imports is imported before the clock starts (the decode-only figures do not
    # count importing stellar_sdk either); what is timed is building and running the job.
    import apache_beam  # noqa: F401
    import apache_beam.io.filesystems  # noqa: F401

    import beam_pipeline.pipeline  # noqa: F401 - sources, decode, records, sinks, stellar_sdk, pyarrow
    import beam_pipeline.summary  # noqa: F401
    from beam_pipeline import job

    t0 = time.perf_counter()
    rc = job.run(rest)
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


def floor_pipeline(timing: str, beam_args: list[str]) -> int:
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
                cmd = [sys.executable, "-m", "benchmarks", "--child-floor", str(timing), *extra]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
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

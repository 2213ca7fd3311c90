"""Benchmark: what the pipeline costs compared with decoding alone, on the same data in one run.

    python -m benchmarks [--data DIR ...] [--scale N ...] [--repeat K] [--out FILE]

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
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.phases import MULTI_ARGS, TABLES, measure_in_process, rates
from benchmarks.report import loadavg, machine, plot, print_table, scaling_summary
from benchmarks.runs import measure_beam_floor, measure_pipeline, measure_startup
from benchmarks.stores import SCALE_SOURCE, build_scaled_store

DEFAULT_DATA = ("mainnet-p22-56065483", "standalone-p25-loadtest")


def shared_datastores() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared" / "ledgers" / "datastores"


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
        res[mode] = {**run, **rates(run["seconds"], ledgers, mb, run["rows"])}
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
    shared = shared_datastores()
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

    parser = StrictParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))

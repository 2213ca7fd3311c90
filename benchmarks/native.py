"""Native core vs Python path, in one run: per table, and for the whole pipeline as a user starts it.

    python -m benchmarks.native [--data STORE ...] [--repeat 3] [--out benchmarks/native.json]

Per table (decode + rows): the decode step (`_DecodeToRowsFn`, the code the pipeline runs, Arrow
chunks out) over every object of a data store, with only that table requested, once with
STELLAR_ARCHIVE_NATIVE=0 and once with =1; plus all native tables together. The baseline the
issue measures against, stellar_sdk's decode alone of the same objects, is timed in the same run.

Whole pipeline: ``python -m beam_pipeline run`` in a child process, timed from outside (interpreter
start-up, imports, graph, runner and Parquet writing included), with each switch, over the issue's
cases (100 renumbered copies of the mainnet p22 ledger, the 30 heavy p25 ledgers) with their tables
and with only the core's tables; ``--before CHECKOUT`` times another checkout in the same runs. The
baselines: stellar_sdk's decode alone of the same objects, the zstd floor (reading and
decompressing them) and Beam's floor (a trivial job on the same runner in a child, timed alike:
no Beam pipeline in one process can be faster). Then one native run split into phases (imports,
graph, each step, the runner's own share). Times are medians of --repeat runs, wall clock and
CPU; the machine is shared, so compare ratios within a run.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
import zstandard

REPO = Path(__file__).resolve().parents[1]
DATASTORES = REPO.parent / "shared" / "ledgers" / "datastores"
DEFAULT_DATA = ("mainnet-p22-56065483", "standalone-p25-loadtest", "testnet-p19-lpf64")
# The whole-run cases: 100 renumbered copies of the mainnet p22 ledger (3 tables), the 30 heavy p25 ledgers.
PIPELINE_CASES = (
    "mainnet-p22-56065483*100:ledgers,transactions,operations",
    "standalone-p25-loadtest:ledgers,transactions,operations,contract_events,contract_data",
)


def _blobs(root: Path):
    from beam_pipeline.sources.base import BATCH, LedgerBlob

    out = []
    for path in sorted(root.glob("*/*.xdr.zst*")):
        data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()
        start, end = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
        out.append(LedgerBlob(path.name, BATCH, data, start, end, start, end))
    return out


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _decode_step(blobs, tables: tuple[str, ...], passphrase: str, switch: str) -> None:
    from beam_pipeline.decode import DecodeSettings, _DecodeToRowsFn
    from beam_pipeline.sinks.partitioning import file_group

    os.environ["STELLAR_ARCHIVE_NATIVE"] = switch
    group = functools.partial(file_group, "ledger_day", 64, 1)
    fn = _DecodeToRowsFn(DecodeSettings(tables, passphrase, group, pipeline_name="bench", run_id="r"))
    fn.setup()
    assert (fn._native is not None) == (switch == "1"), "the switch did not select the path"
    for blob in blobs:
        for _ in fn.process(blob):
            pass
    fn.teardown()


def _sdk_decode(blobs) -> None:
    from stellar_sdk import xdr

    from beam_pipeline.decode import gc_paused

    for blob in blobs:
        with gc_paused():
            xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)


def per_table(root: Path, repeat: int) -> dict:
    from beam_pipeline import native
    from beam_pipeline.sources import sep54

    passphrase = sep54.parse_manifest((root / ".config.json").read_text(), root.name).network_passphrase
    blobs = _blobs(root)
    ledgers = sum(b.last - b.first + 1 for b in blobs)
    os.environ["STELLAR_ARCHIVE_NATIVE"] = "1"
    tables = sorted(native.native_table_names())
    result = {"ledgers": ledgers, "xdr_mb": round(sum(len(b.data) for b in blobs) / 1e6, 2), "tables": {}}
    # Warm-up, untimed: imports (stellar_sdk, every table module) and first-call costs of both paths.
    _sdk_decode(blobs[:1])
    _decode_step(blobs[:1], tuple(tables), passphrase, "0")
    _decode_step(blobs[:1], tuple(tables), passphrase, "1")
    result["sdk_decode_s"] = round(_median(lambda: _sdk_decode(blobs), repeat), 4)
    for name, group in [*((t, (t,)) for t in tables), ("all native tables", tuple(tables))]:
        py = _median(lambda g=group: _decode_step(blobs, g, passphrase, "0"), repeat)
        nat = _median(lambda g=group: _decode_step(blobs, g, passphrase, "1"), repeat)
        result["tables"][name] = {"python_s": round(py, 4), "native_s": round(nat, 4), "speedup": round(py / nat, 2)}
    return result


def resolve_store(name: str, work: Path) -> Path:
    """A data store by name or path; ``STORE*N`` is N renumbered copies of STORE's ledgers (built under `work`).

    The copies keep each ledger's transactions, results and metas (see `benchmarks.stores.build_scaled_store`),
    one ledger per object as galexie writes mainnet.
    """
    base, _, copies = name.partition("*")
    root = Path(base) if os.sep in base else DATASTORES / base
    if not copies:
        return root
    from benchmarks.stores import build_scaled_store, ledger_range

    dest = work / f"{root.name}-x{copies}"
    if not dest.exists():
        first, last, count = ledger_range([b.data[:8] for b in _blobs(root)])
        build_scaled_store(str(dest), str(root), count, int(copies) // count, ledgers_per_batch=1)
    return dest


def _timed_child(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its descendants) of one command; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _cpu_median(fn, repeat: int) -> tuple[float, float]:
    """(median wall, median CPU seconds) of `fn` in this process."""
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def _zstd_floor(root: Path) -> None:
    """Reading and decompressing every object: what no archiver of these objects can go below."""
    for path in sorted(root.glob("*/*.xdr.zst*")):
        zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()


def whole_run(root: Path, tables: tuple[str, ...], repeat: int, work: Path, before: Path | None) -> dict:
    """`python -m beam_pipeline run` in a child per code and switch, timed from outside (start-up included).

    Runs: this checkout on the Python path (``python``) and with the core (``native``), and, given
    `before`, another checkout with the core (``before``), interleaved so that the machine's load
    falls on each alike. Each is timed as wall clock and as the child's CPU seconds (less
    sensitive to other jobs on a shared machine). The baselines, in this process: stellar_sdk's
    decode alone of the same objects and the zstd floor (reading and decompressing them).
    """
    blobs = _blobs(root)
    cfg_path = _job_config(root, blobs, tables, work, "job.yaml")
    variants = [("python", REPO, "0"), ("native", REPO, "1")] + ([("before", before, "1")] if before else [])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in variants}
    times["beam_floor"] = []
    job = [sys.executable, "-m", "beam_pipeline", "run", "--config", str(cfg_path)]
    floor = [sys.executable, "-m", "benchmarks", "--child-floor", str(work / "floor.json")]
    for _ in range(repeat):
        for name, code, switch in variants:
            env = dict(os.environ, STELLAR_ARCHIVE_NATIVE=switch, PYTHONPATH=str(code))
            times[name].append(_timed_child(job, env))
        times["beam_floor"].append(_timed_child(floor, dict(os.environ, PYTHONPATH=str(REPO))))
    mb = round(sum(len(b.data) for b in blobs) / 1e6, 2)
    ledgers = max(b.last for b in blobs) - min(b.first for b in blobs) + 1
    out = {"tables": list(tables), "ledgers": ledgers, "xdr_mb": mb}
    for name, runs in times.items():
        out[f"{name}_s"] = round(statistics.median(w for w, _ in runs), 3)
        out[f"{name}_cpu_s"] = round(statistics.median(c for _, c in runs), 3)
    _sdk_decode(blobs[:1])  # warm-up: the import of stellar_sdk is not decoding
    wall, cpu = _cpu_median(lambda: _sdk_decode(blobs), repeat)
    out["sdk_decode_s"], out["sdk_decode_cpu_s"] = round(wall, 3), round(cpu, 3)
    wall, floor_cpu = _cpu_median(lambda: _zstd_floor(root), repeat)
    out["zstd_floor_s"], out["zstd_floor_cpu_s"] = round(wall, 3), round(floor_cpu, 3)
    for name in (*(name for name, _, _ in variants), "beam_floor"):
        # How many times faster than stellar_sdk's decode alone the whole run is (the issue's >= 5x), and how
        # many times the zstd floor it takes; by wall clock and by CPU time. For the Beam floor (a trivial
        # job, start-up included), the first ratio is the most any Beam pipeline in one process could reach.
        out[f"sdk_decode_over_{name}"] = round(out["sdk_decode_s"] / out[f"{name}_s"], 2)
        out[f"sdk_decode_over_{name}_cpu"] = round(out["sdk_decode_cpu_s"] / out[f"{name}_cpu_s"], 2)
        out[f"{name}_over_zstd_floor_cpu"] = round(out[f"{name}_cpu_s"] / floor_cpu, 1) if floor_cpu else None
    out["speedup"] = round(out["python_s"] / out["native_s"], 2)
    return out


def _job_config(root: Path, blobs: list, tables: tuple[str, ...], work: Path, name: str) -> Path:
    """A job file archiving every ledger of `blobs` (from the store at `root`) into `work`/out."""
    first, last = min(b.first for b in blobs), max(b.last for b in blobs)
    cfg = {
        "pipeline": {
            "name": "bench-native",
            "source": {"type": "datastore", "config": {"path": str(root), "start_ledger": first, "end_ledger": last}},
            "processors": [{"type": t} for t in tables],
            "consumers": [{"type": "SaveToParquet", "config": {"storage_type": "FS", "local_path": str(work / "out")}}],
        }
    }
    path = work / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def phases(root: Path, tables: tuple[str, ...], work: Path) -> dict:
    """CPU seconds of one native run by phase, in a child (see `_phases_child`)."""
    cfg_path = _job_config(root, _blobs(root), tables, work, "phases.yaml")
    env = dict(os.environ, STELLAR_ARCHIVE_NATIVE="1", PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.native", "--phases-child", str(cfg_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"phases child failed: {proc.stderr[-2000:]}")
    return {"tables": list(tables), **json.loads(proc.stdout.strip().splitlines()[-1])}


def _phases_child(config: str) -> int:
    """One whole run in this process, its CPU seconds split: imports, graph, our DoFns, the runner's own share.

    Prints one JSON line. The DoFns are timed by wrapping their `process` methods (a generator's time is
    counted while it runs, not while the runner consumes what it yielded).
    """
    import contextlib
    import inspect
    import io

    clock = time.process_time
    start, marks = clock(), {}
    import apache_beam as beam

    marks["import_apache_beam"] = clock() - start
    t = clock()
    import beam_pipeline.cli
    import beam_pipeline.pipeline
    import beam_pipeline.sinks.parquet as parquet_sink
    from beam_pipeline import decode
    from beam_pipeline.sources import datastore

    marks["import_pipeline_modules"] = clock() - t
    marks["stellar_sdk_imported"] = "stellar_sdk" in sys.modules
    spent = {"decode_step": 0.0, "read_objects": 0.0, "write_parquet": 0.0, "graph": 0.0, "pipeline_run": 0.0}

    def timed(owner, name: str, key: str) -> None:
        f = getattr(owner, name)
        if inspect.isgeneratorfunction(f):

            def wrapper(*a, **k):
                t = clock()
                try:
                    for x in f(*a, **k):
                        spent[key] += clock() - t
                        yield x
                        t = clock()
                finally:
                    spent[key] += clock() - t
        else:

            def wrapper(*a, **k):
                t = clock()
                try:
                    return f(*a, **k)
                finally:
                    spent[key] += clock() - t

        setattr(owner, name, wrapper)

    timed(decode._DecodeToRowsFn, "process", "decode_step")
    timed(datastore._ReadObjectFn, "process", "read_objects")
    timed(parquet_sink._WriteTempFilesFn, "process", "write_parquet")
    timed(beam_pipeline.pipeline, "build_pipeline", "graph")
    timed(beam.Pipeline, "run", "pipeline_run")
    t = clock()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = beam_pipeline.cli.main(["run", "--config", config])
    marks["cli_run"] = clock() - t
    marks["stellar_sdk_imported_at_end"] = "stellar_sdk" in sys.modules  # an all-native run never imports it
    marks.update(spent)
    marks["runner_own"] = spent["pipeline_run"] - spent["decode_step"] - spent["read_objects"] - spent["write_parquet"]
    marks["total"] = clock() - start
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in marks.items()}))
    return rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.native", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", help=f"data store name or path (default: {', '.join(DEFAULT_DATA)})")
    parser.add_argument("--no-per-table", action="store_true", help="only the whole runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pipeline",
        action="append",
        metavar="STORE:TABLES",
        help="a whole-run case: store (STORE*N: N renumbered copies) and comma-separated tables; each also runs "
        f"with only the core's tables (default: {'; '.join(PIPELINE_CASES)})",
    )
    parser.add_argument("--before", help="another checkout (with its built core) timed in the same whole runs")
    parser.add_argument("--no-core-set", action="store_true", help="whole runs of the given tables only")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "native.json"))
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    report = {"per_table": {}, "load_before": [round(x, 2) for x in load_before]}
    with tempfile.TemporaryDirectory(prefix="bench-native-") as tmp:
        work = Path(tmp)
        for d in [] if args.no_per_table else args.data or DEFAULT_DATA:
            print(f"[native bench] {d}: decode + rows per table", file=sys.stderr, flush=True)
            report["per_table"][Path(d).name] = per_table(resolve_store(d, work), args.repeat)
        from beam_pipeline import native

        os.environ["STELLAR_ARCHIVE_NATIVE"] = "1"
        native_tables = tuple(sorted(native.native_table_names()))
        report["whole_runs"], report["phases"] = [], []
        for case in args.pipeline or PIPELINE_CASES:
            store, _, names = case.partition(":")
            root = resolve_store(store, work)
            asked = tuple(t for t in names.split(",") if t)
            same = args.no_core_set or set(asked) == set(native_tables)
            for tables in (asked,) if same else (asked, native_tables):
                print(f"[native bench] {store}: whole CLI runs of {tables}", file=sys.stderr, flush=True)
                run_dir = Path(tempfile.mkdtemp(dir=work))
                before = Path(args.before).resolve() if args.before else None
                report["whole_runs"].append({"data": store, **whole_run(root, tables, args.repeat, run_dir, before)})
            report["phases"].append({"data": store, **phases(root, native_tables, Path(tempfile.mkdtemp(dir=work)))})
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for store, res in report["per_table"].items():
        head = f"{store}: {res['ledgers']} ledgers, {res['xdr_mb']} MB"
        print(f"{head}, stellar_sdk decode alone {res['sdk_decode_s']} s")
        for name, r in res["tables"].items():
            times = f"python {r['python_s']:>8.4f} s  native {r['native_s']:>8.4f} s"
            print(f"  {name:<20} {times}  {r['speedup']:>6.2f}x")
    for w in report["whole_runs"]:
        runs = ", ".join(
            f"{name} {w[f'{name}_s']} s / {w[f'{name}_cpu_s']} s CPU (sdk decode ÷ run: "
            f"{w[f'sdk_decode_over_{name}']}x, {w[f'sdk_decode_over_{name}_cpu']}x CPU; "
            f"{w[f'{name}_over_zstd_floor_cpu']}x the zstd floor)"
            for name in ("python", "native", "before", "beam_floor")
            if f"{name}_s" in w
        )
        print(
            f"whole run {w['data']} ({w['ledgers']} ledgers; {', '.join(w['tables'])}): {runs}; stellar_sdk decode "
            f"alone {w['sdk_decode_s']} s / {w['sdk_decode_cpu_s']} s CPU; zstd floor {w['zstd_floor_cpu_s']} s CPU"
        )
    for ph in report["phases"]:
        print(f"phases of a native run, {ph['data']} (CPU s): " + ", ".join(f"{k} {v}" for k, v in ph.items()
                                                                          if k not in ("data", "tables")))
    print(f"load average before {report['load_before']} after {report['load_after']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--phases-child":
        sys.exit(_phases_child(sys.argv[2]))
    sys.exit(main())

"""Native core vs Python path, in one run: per table, and for the whole pipeline as a user starts it.

    python -m benchmarks.native [--data STORE ...] [--repeat 3] [--out benchmarks/native.json]

Per table (decode + rows): the decode step (`_DecodeToRowsFn`, the code the pipeline runs, Arrow
chunks out) over every object of a data store, with only that table requested, once with
STELLAR_ARCHIVE_NATIVE=0 and once with =1; plus all native tables together. The baseline the
issue measures against, stellar_sdk's decode alone of the same objects, is timed in the same run.

Whole pipeline: ``python -m beam_pipeline run`` in a child process, timed from outside (interpreter
start-up, imports, graph, runner and Parquet writing included), with each switch, over the given
tables. Times are medians of --repeat runs; the machine is shared, so compare ratios within a run.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
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
PIPELINE_TABLES = ("ledgers", "transactions", "operations", "contract_events", "contract_data")


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


def whole_run(root: Path, tables: tuple[str, ...], repeat: int, work: Path) -> dict:
    """`python -m beam_pipeline run` in a child per switch, wall clock from outside (start-up included)."""
    blobs = _blobs(root)
    first, last = min(b.first for b in blobs), max(b.last for b in blobs)
    cfg = {
        "pipeline": {
            "name": "bench-native",
            "source": {"type": "datastore", "config": {"path": str(root), "start_ledger": first, "end_ledger": last}},
            "processors": [{"type": t} for t in tables],
            "consumers": [{"type": "SaveToParquet", "config": {"storage_type": "FS", "local_path": str(work / "out")}}],
        }
    }
    cfg_path = work / "job.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = {"tables": list(tables), "ledgers": last - first + 1}
    for switch in ("0", "1"):
        times = []
        for _ in range(repeat):
            env = dict(os.environ, STELLAR_ARCHIVE_NATIVE=switch, PYTHONPATH=str(REPO))
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "beam_pipeline", "run", "--config", str(cfg_path)],
                env=env,
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise RuntimeError(f"run failed with STELLAR_ARCHIVE_NATIVE={switch}: {proc.stderr[-2000:]}")
        out["python_s" if switch == "0" else "native_s"] = round(statistics.median(times), 3)
    _sdk_decode(blobs[:1])  # warm-up: the import of stellar_sdk is not decoding
    out["sdk_decode_s"] = round(_median(lambda: _sdk_decode(blobs), repeat), 4)
    out["speedup"] = round(out["python_s"] / out["native_s"], 2)
    out["native_run_over_sdk_decode"] = round(out["sdk_decode_s"] / out["native_s"], 2)
    out["python_run_over_sdk_decode"] = round(out["sdk_decode_s"] / out["python_s"], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.native", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", help=f"data store name or path (default: {', '.join(DEFAULT_DATA)})")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pipeline-data", default="standalone-p25-loadtest", help="store of the whole-run timing")
    parser.add_argument("--pipeline-tables", default=",".join(PIPELINE_TABLES))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "native.json"))
    args = parser.parse_args(argv)

    def resolve(d: str) -> Path:
        return Path(d) if os.sep in d else DATASTORES / d

    load_before = os.getloadavg()
    report = {"per_table": {}, "load_before": [round(x, 2) for x in load_before]}
    for d in args.data or DEFAULT_DATA:
        print(f"[native bench] {d}: decode + rows per table", file=sys.stderr, flush=True)
        report["per_table"][Path(d).name] = per_table(resolve(d), args.repeat)
    from beam_pipeline import native

    os.environ["STELLAR_ARCHIVE_NATIVE"] = "1"
    table_sets = [tuple(t for t in args.pipeline_tables.split(",") if t), tuple(sorted(native.native_table_names()))]
    report["whole_runs"] = []
    for tables in table_sets:
        print(f"[native bench] {args.pipeline_data}: whole CLI runs of {tables}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-native-") as work:
            run = whole_run(resolve(args.pipeline_data), tables, args.repeat, Path(work))
        report["whole_runs"].append({"data": args.pipeline_data, **run})
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for store, res in report["per_table"].items():
        head = f"{store}: {res['ledgers']} ledgers, {res['xdr_mb']} MB"
        print(f"{head}, stellar_sdk decode alone {res['sdk_decode_s']} s")
        for name, r in res["tables"].items():
            times = f"python {r['python_s']:>8.4f} s  native {r['native_s']:>8.4f} s"
            print(f"  {name:<20} {times}  {r['speedup']:>6.2f}x")
    for w in report["whole_runs"]:
        print(
            f"whole run {w['data']} ({w['ledgers']} ledgers; {', '.join(w['tables'])}): python {w['python_s']} s, "
            f"native {w['native_s']} s ({w['speedup']}x); stellar_sdk decode alone {w['sdk_decode_s']} s "
            f"(decode alone / native run: {w['native_run_over_sdk_decode']}x)"
        )
    print(f"load average before {report['load_before']} after {report['load_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

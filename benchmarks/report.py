"""The benchmark's report: the machine, the table printed at the end, scaling ratios, the plot.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from benchmarks.stores import SCALE_SOURCE


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

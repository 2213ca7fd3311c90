"""The benchmark harness runs end to end on tiny inputs and writes a report that adds up.

No timing is asserted: only that every phase ran on the same ledgers and counted what was written.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from stellar_sdk import xdr

from beam_pipeline.xdr.ledger import LedgerView
from benchmarks import stores
from benchmarks.cli import main
from benchmarks.report import scaling_summary
from tests.harness import datastore

TESTNET = "Test SDF Network ; September 2015"


def test_scaled_store_is_a_consistent_renumbered_chain(tmp_path):
    root = stores.build_scaled_store(str(tmp_path / "s"), datastore("testnet-p19-lpf64"), base=3, scale=3,
                                    ledgers_per_batch=4)
    objects = sorted(stores.objects_of(root), reverse=True)  # inverted-hex names: lowest ledger first
    blobs = [stores.decompress(open(p, "rb").read()) for p in objects]
    assert stores.ledger_range(blobs) == (1410048, 1410056, 9)
    assert [p.rsplit("/", 1)[1] for p in objects] == [
        "FFEA7BFF--1410048-1410051.xdr.zst", "FFEA7BFB--1410052-1410055.xdr.zst", "FFEA7BF7--1410056-1410059.xdr.zst"
    ]
    prev, closes, txs = None, [], 0
    for data in blobs:
        for lcm in xdr.LedgerCloseMetaBatch.from_xdr_bytes(data).ledger_close_metas:
            entry = lcm.v0.ledger_header
            assert hashlib.sha256(entry.header.to_xdr_bytes()).digest() == entry.hash.hash
            if prev is not None:
                assert entry.header.previous_ledger_hash.hash == prev
            prev = entry.hash.hash
            closes.append(entry.header.scp_value.close_time.time_point.uint64)
            txs += len(LedgerView(lcm, TESTNET).transactions)  # envelopes still pair with results
    assert [b - a for a, b in zip(closes, closes[1:], strict=False)] == [5] * 8
    assert txs > 0


def test_bench_command_writes_the_report(tmp_path, shared_ledgers):
    out = tmp_path / "r.json"
    rc = main(["--data", datastore("mainnet-p13-30820015-metav2"), "--scale", "1", "--scale", "2",
               "--base", "2", "--repeat", "1", "--no-multi", "--compare-in-memory", "--out", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["machine"]["nproc"] >= 1 and report["machine"]["beam"] == "2.77.0"
    mainnet, scaled, scaled2 = report["datasets"]
    assert (mainnet["first_ledger"], mainnet["ledgers"]) == (30820015, 1)
    # 1 ledger + 59 transactions + 143 operations; no Soroban in protocol 13.
    assert mainnet["single"]["rows"] == 1 + 59 + 143
    assert mainnet["single"]["peak_rss_mb"] > 50
    assert scaled["scale"] == 1 and scaled["ledgers"] == 2
    for d in (mainnet, scaled):
        for phase in ("read", "decode_sdk", "decode_sdk_gc_paused", "decode_fast", "single", "single_in_memory"):
            assert d[phase]["seconds"] > 0
        assert d["single_in_memory"]["rows"] == d["single"]["rows"]
        assert set(d["ratios"]) == {
            "single_over_decode", "fast_decode_speedup", "gc_pause_speedup", "spill_over_in_memory_time",
            "spill_over_in_memory_rss",
        }
    assert scaled2["scale"] == 2 and scaled2["ledgers"] == 4
    scaling = report["scaling"]
    assert scaling["by_scale"]["1x"]["time_ratio"] == 1.0
    assert set(scaling["startup_seconds"]) == {"single"} and scaling["startup_seconds"]["single"] > 0
    assert set(report["beam_floor"]) == {"single"} and report["beam_floor"]["single"] > 0
    assert scaling["beam_floor_seconds"] == report["beam_floor"]
    assert scaling["by_scale"]["1x"]["single_in_memory_rss_ratio"] == 1.0
    [step] = scaling["marginal_ms_per_ledger"]
    assert step["from_to_ledgers"] == [2, 4] and set(step) == {"from_to_ledgers", "decode_sdk", "single"}
    steady = scaling["steady_state"]
    assert steady["from_to_ledgers"] == [2, 4]
    assert set(steady["ms_per_ledger"]) == {"decode_sdk", "decode_sdk_gc_paused", "decode_fast", "single"}


def test_steady_state_ratios_cancel_the_fixed_start_up():
    def store(scale, ledgers, decode, single, multi):
        return {"scale": scale, "ledgers": ledgers, "decode_sdk": {"seconds": decode},
                "decode_fast": {"seconds": decode / 2}, "single": {"seconds": single, "peak_rss_mb": 100.0 * scale},
                "multi": {"seconds": multi}}

    # Per added ledger: decode 0.1 s, one process 0.125 s, two processes 0.0625 s; start-up 2 s and 5 s.
    summary = scaling_summary(
        [store(1, 10, 1.0, 3.25, 5.625), store(4, 40, 4.0, 7.0, 7.5), {"name": "not scaled"}],
        {"single": 2.0, "multi": 5.0},
        {"single": 0.5, "multi": 3.0},
    )
    assert summary["beam_floor_seconds"] == {"single": 0.5, "multi": 3.0}
    assert summary["marginal_ms_per_ledger"] == [
        {"from_to_ledgers": [10, 40], "decode_sdk": 100.0, "single": 125.0, "multi": 62.5}
    ]
    steady = summary["steady_state"]
    assert steady["ms_per_ledger"] == {"decode_sdk": 100.0, "decode_fast": 50.0, "single": 125.0, "multi": 62.5}
    ratios = (steady["single_over_decode"], steady["multi_over_single"], steady["fast_over_sdk_decode"])
    assert ratios == (0.8, 2.0, 2.0)
    four = summary["by_scale"]["4x"]
    assert (four["time_ratio"], four["rss_ratio"], four["time_beyond_startup_ratio"]) == (2.154, 4.0, 4.0)


def test_marginal_cost_per_step_shows_a_ledger_costing_more_in_a_longer_range():
    def store(scale, ledgers, single):
        return {"scale": scale, "ledgers": ledgers, "decode_sdk": {"seconds": ledgers / 100},
                "decode_fast": {"seconds": ledgers / 200}, "single": {"seconds": single, "peak_rss_mb": 100.0}}

    # 1 s of start-up, then 10 ms per ledger up to 40 ledgers and 20 ms per ledger beyond.
    summary = scaling_summary([store(1, 10, 1.1), store(4, 40, 1.4), store(16, 160, 3.8)])
    steps = [(s["from_to_ledgers"], s["single"]) for s in summary["marginal_ms_per_ledger"]]
    assert steps == [([10, 40], 10.0), ([40, 160], 20.0)]
    assert "multi" not in summary["marginal_ms_per_ledger"][0]


def test_a_mistyped_flag_stops_the_benchmark_before_any_work(tmp_path, capsys):
    """``python -m benchmarks`` refuses a flag it does not know, as the CLI's subcommands do."""
    out = tmp_path / "results.json"
    with pytest.raises(SystemExit) as e:
        main(["--out", str(out), "--no-scale", "--repeet", "3"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown flag --repeet" in err and "(did you mean --repeat?)" in err
    assert "usage: python -m benchmarks" in err
    assert not out.exists()


def test_native_bench_times_every_whole_run_against_the_same_baselines(tmp_path, shared_ledgers):
    from benchmarks import native

    out = tmp_path / "native.json"
    store = datastore("mainnet-p13-30820015-metav2")
    rc = native.main(["--no-per-table", "--pipeline", f"{store}:ledgers,transactions", "--no-core-set",
                      "--repeat", "1", "--out", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    [run] = report["whole_runs"]
    assert run["tables"] == ["ledgers", "transactions"] and run["ledgers"] == 1
    for name in ("python", "native", "beam_floor"):
        assert run[f"{name}_s"] > 0 and run[f"{name}_cpu_s"] > 0
        # Every ratio divides the same run's stellar_sdk decode by that variant's own time.
        assert run[f"sdk_decode_over_{name}_cpu"] == round(run["sdk_decode_cpu_s"] / run[f"{name}_cpu_s"], 2)
    [phases] = report["phases"]
    assert phases["import_apache_beam"] > 0 and phases["pipeline_run"] > 0

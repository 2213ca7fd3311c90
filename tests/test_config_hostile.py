"""Hostile configs: alias bombs, out-of-range numbers and secrets from the environment are refused at
validation (exit 2) with the file and key path named, and secret values never appear in the refusal."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from beam_pipeline.cli import main
from beam_pipeline.config import LEDGER_MAX, MAX_YAML_NODES, load_config
from tests.harness import datastore, job_config, write_config

SRC = "pipeline.source.config"
SINK = "pipeline.consumers[0].config"
STORE = datastore("testnet-p19-lpf64")


def _validate(capsys, path: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["validate", "--config", path])
    out = capsys.readouterr()
    return code, out.out, out.err


def _rpc_config(out: Path, **source) -> dict:
    cfg = job_config(STORE, 1410048, 1410050, out, tables=["ledgers"])
    cfg["pipeline"]["source"] = {
        "type": "rpc",
        "config": {"rpc_url": "http://127.0.0.1:9/rpc", "start_ledger": 1410048, "end_ledger": 1410050, **source},
    }
    return cfg


# --- YAML alias bombs ----------------------------------------------------------------------------

LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    + ["pipeline: *a9"]
)


@pytest.mark.timeout(60)
def test_billion_laughs_is_refused_by_validate_naming_the_file(tmp_path, capsys):
    """10^9 strings from ~1 KB: counted on the alias graph while loading, refused before anything walks it."""
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    code, out, err = _validate(capsys, str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"{path}: invalid config:")
    assert f"expands to more than {MAX_YAML_NODES} nodes through its aliases" in err


def test_a_self_referring_alias_is_refused(tmp_path, capsys):
    path = tmp_path / "loop.yaml"
    path.write_text("pipeline: &p\n  name: x\n  again: *p\n")
    code, _, err = _validate(capsys, str(path))
    assert code == 2 and "an alias refers to a node that contains it" in err


def test_ordinary_aliases_still_work(tmp_path):
    path = tmp_path / "aliased.yaml"
    path.write_text(
        "pipeline:\n"
        "  source:\n"
        "    type: datastore\n"
        f"    config: {{path: {STORE}, start_ledger: &first 1410048, end_ledger: *first}}\n"
        "  processors: [{type: ledgers}]\n"
        f"  consumers: [{{type: SaveToParquet, config: {{local_path: {tmp_path / 'out'}}}}}]\n"
    )
    assert load_config(str(path)).source.end_ledger == 1410048


# --- numeric bounds --------------------------------------------------------------------------------

DATASTORE_BOUNDS = {
    "huge end ledger": ({"end_ledger": 99999999999999999999}, f"{SRC}.end_ledger: must be at most {LEDGER_MAX}"),
    "end ledger 2^32": ({"end_ledger": 2**32}, f"{SRC}.end_ledger: must be at most {LEDGER_MAX}"),
    "start ledger 2^32": (
        {"start_ledger": 2**32, "end_ledger": 2**32 + 5}, f"{SRC}.start_ledger: must be at most {LEDGER_MAX}"
    ),
    "nan object size": ({"max_object_size_mb": math.nan}, f"{SRC}.max_object_size_mb: expected a finite number"),
    "inf object size": ({"max_object_size_mb": math.inf}, f"{SRC}.max_object_size_mb: expected a finite number"),
    "negative retry wait": ({"retry_wait": -1.0}, f"{SRC}.retry_wait: must not be negative"),
    "nan retry wait": ({"retry_wait": math.nan}, f"{SRC}.retry_wait: expected a finite number"),
    "year-long retry wait": ({"retry_wait": 3.2e7}, f"{SRC}.retry_wait: must be at most 86400"),
    "absurd retry limit": ({"retry_limit": 10**12}, f"{SRC}.retry_limit: must be at most 100"),
}


@pytest.mark.parametrize("case", list(DATASTORE_BOUNDS))
def test_datastore_numbers_out_of_range_are_refused_by_key(case, tmp_path, capsys):
    keys, expected = DATASTORE_BOUNDS[case]
    cfg = job_config(STORE, 1410048, 1410050, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"]["config"].update(keys)
    path = write_config(cfg, tmp_path)
    code, _, err = _validate(capsys, path)
    assert code == 2 and path in err and expected in err, err
    capsys.readouterr()
    assert main(["run", "--config", path]) == 2
    assert expected in capsys.readouterr().err


RPC_BOUNDS = {
    "nan timeout": ({"timeout": math.nan}, f"{SRC}.timeout: expected a finite number"),
    "negative timeout": ({"timeout": -5.0}, f"{SRC}.timeout: must be greater than 0"),
    "nan retry wait": ({"retry_wait": math.nan}, f"{SRC}.retry_wait: expected a finite number"),
    "negative retry wait": ({"retry_wait": -0.5}, f"{SRC}.retry_wait: must not be negative"),
    "negative deadline": ({"request_deadline": -1.0}, f"{SRC}.request_deadline: must be greater than 0"),
    "inf poll interval": ({"poll_interval": math.inf}, f"{SRC}.poll_interval: expected a finite number"),
}


@pytest.mark.parametrize("case", list(RPC_BOUNDS))
def test_rpc_waits_out_of_range_are_refused_by_key(case, tmp_path, capsys):
    keys, expected = RPC_BOUNDS[case]
    path = write_config(_rpc_config(tmp_path / "out", **keys), tmp_path)
    code, _, err = _validate(capsys, path)
    assert code == 2 and expected in err, err


SINK_BOUNDS = {
    "nan file size": ({"max_file_size_mb": math.nan}, f"{SINK}.max_file_size_mb: expected a finite number"),
    "inf lateness": ({"allowed_lateness_minutes": math.inf}, f"{SINK}.allowed_lateness_minutes: expected a finite"),
    "absurd shards": ({"num_shards": 10**9}, f"{SINK}.num_shards: must be at most 10000"),
}


@pytest.mark.parametrize("case", list(SINK_BOUNDS))
def test_sink_numbers_out_of_range_are_refused_by_key(case, tmp_path, capsys):
    keys, expected = SINK_BOUNDS[case]
    path = write_config(job_config(STORE, 1410048, 1410050, tmp_path / "out", tables=["ledgers"], **keys), tmp_path)
    code, _, err = _validate(capsys, path)
    assert code == 2 and expected in err, err


def test_a_ledger_flag_past_32_bits_is_refused(tmp_path, capsys):
    path = write_config(job_config(STORE, 1410048, 1410050, tmp_path / "out", tables=["ledgers"]), tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path, "--end_ledger", str(2**32)]) == 2
    assert f"{SRC}.end_ledger: must be at most {LEDGER_MAX}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- values from the environment -----------------------------------------------------------------


def test_a_numeric_token_from_the_environment_stays_a_string(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RPC_TOKEN", "31415926535")
    monkeypatch.setenv("RPC_RETRIES", "7")
    cfg = _rpc_config(tmp_path / "out", auth_header="${RPC_TOKEN}", retry_limit="${RPC_RETRIES}")
    loaded = load_config(write_config(cfg, tmp_path))
    assert loaded.source.auth_header == "31415926535" and type(loaded.source.auth_header) is str
    assert loaded.source.retry_limit == 7
    code, out, err = _validate(capsys, write_config(cfg, tmp_path))
    assert code == 0 and "31415926535" not in out + err


def test_a_bad_value_from_the_environment_is_not_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NOT_A_LEDGER", "tok-8c1f0e2d")
    cfg = _rpc_config(tmp_path / "out", start_ledger="${NOT_A_LEDGER}")
    code, out, err = _validate(capsys, write_config(cfg, tmp_path))
    assert code == 2
    assert f"{SRC}.start_ledger: expected an integer, got '${{NOT_A_LEDGER}}' (its value is not shown)" in err
    assert "tok-8c1f0e2d" not in out + err


def test_a_literal_secret_of_the_wrong_type_is_not_printed(tmp_path, capsys):
    code, out, err = _validate(capsys, write_config(_rpc_config(tmp_path / "out", auth_header=27182818284), tmp_path))
    assert code == 2 and f"{SRC}.auth_header: expected a string, got a value of type int (a secret" in err
    assert "27182818284" not in out + err

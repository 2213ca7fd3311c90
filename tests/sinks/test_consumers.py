"""Several consumers in one Go-shaped pipeline: PostgreSQL, Redis, DuckDB and stdout against the Parquet output.

Real servers (tests/servers.py) on 127.0.0.1; real ledgers (standalone-p25-loadtest: Soroban
contract data and events). Every check compares values with the Parquet rows of the same run.
"""

from __future__ import annotations

import json
from datetime import timezone
from decimal import Decimal

import pytest

from beam_pipeline.cli import main
from beam_pipeline.sinks.postgres import ROW_KEY
from beam_pipeline.sinks.redis_sink import row_json
from tests.harness import manifests, read_table
from tests.servers import postgres_server, redis_server

STORE = "datastores/standalone-p25-loadtest"
FIRST, LAST = 10048, 10051
KEPT_CONTRACT = "CCW3NRDKAR242X3MSKQVFPFB23ZEEKQDGDZLK2P3LDCEIFV4AAR7VJXR"

CONFIG = """
pipeline:
  name: MultiConsumer
  source:
    type: FSBufferedStorageSourceAdapter
    config:
      path: {store}
      start_ledger: {first}
      end_ledger: {last}
      buffer_size: 10
  processors:
    - type: LatestLedger
    - type: ContractDataProcessor
      config:
        buffer_size: 2000
        contract_addresses: ["{contract}"]
    - type: ContractEventProcessor
  consumers:
    - type: SaveToPostgreSQL
      config:
        connection_string: ${{TEST_DATABASE_URL}}
        batch_size: 100
        create_table: true
    - type: SaveToRedis
      config:
        address: ${{TEST_REDIS}}
        key_prefix: "stellar:"
        ttl_seconds: 86400
    - type: SaveToParquet
      config:
        storage_type: FS
        local_path: {out}
        partition_by: ledger_day
    - type: SaveToDuckDB
      config:
        database_path: {db}
    - type: StdoutSink
      config:
        format: json
"""


@pytest.fixture(scope="module")
def servers():
    with postgres_server() as pg, redis_server() as rd:
        yield pg, rd


def _norm(v):
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if hasattr(v, "astimezone"):
        return v.astimezone(timezone.utc).isoformat()
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    if isinstance(v, list):
        return [_norm(x) for x in v]
    return v


def _canon(rows: list[dict]) -> list[str]:
    return sorted(json.dumps({k: _norm(v) for k, v in r.items()}, sort_keys=True) for r in rows)


def _pg_rows(url: str, table: str) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
    for r in rows:
        r.pop(ROW_KEY, None)
    return rows


def _run(tmp_path, shared_ledgers, monkeypatch, servers, capfd):
    pg, rd = servers
    monkeypatch.setenv("TEST_DATABASE_URL", pg)
    monkeypatch.setenv("TEST_REDIS", rd)
    out, db = tmp_path / "archive", tmp_path / "analytics.duckdb"
    cfg = tmp_path / "multi.yaml"
    cfg.write_text(CONFIG.format(store=shared_ledgers / STORE, first=FIRST, last=LAST, contract=KEPT_CONTRACT,
                                 out=out, db=db))
    assert main(["run", "--config", str(cfg)]) == 0
    return out, db, capfd.readouterr().out


def test_every_consumer_holds_the_parquet_rows(tmp_path, shared_ledgers, monkeypatch, servers, capfd):
    import duckdb
    import redis

    out, db, stdout = _run(tmp_path, shared_ledgers, monkeypatch, servers, capfd)
    pg, rd = servers
    parquet = {t: read_table(out, t).to_pylist() for t in ("ledgers", "contract_data", "contract_events")}
    assert [r["sequence"] for r in parquet["ledgers"]] == list(range(FIRST, LAST + 1))
    assert parquet["contract_data"] and {r["contract_id"] for r in parquet["contract_data"]} == {KEPT_CONTRACT}
    assert len(parquet["contract_events"]) > 1000

    # PostgreSQL: the same rows, value for value, in typed columns.
    for table, rows in parquet.items():
        assert _canon(_pg_rows(pg, table)) == _canon(rows), table

    # A rerun (a new run id) and the same rows again: upserts by key, nothing duplicated.
    _run(tmp_path, shared_ledgers, monkeypatch, servers, capfd)
    for table, rows in parquet.items():
        assert _canon(_pg_rows(pg, table)) == _canon(rows), table
    assert len(manifests(out)) == 2

    # Redis: the latest ledger, and the latest version of each contract data entry.
    client = redis.Redis.from_url(f"redis://{rd}")
    latest = client.hgetall("stellar:latest_ledger")
    assert int(latest[b"ledger"]) == LAST
    assert json.loads(latest[b"row"]) == json.loads(row_json(parquet["ledgers"][-1]))
    expected: dict[str, dict] = {}
    for row in sorted(parquet["contract_data"], key=lambda r: r["ledger_sequence"]):  # stable: file order kept
        expected[f"stellar:contract_data:{row['contract_id']}:{row['ledger_key_hash']}"] = row
    keys = {k.decode() for k in client.scan_iter("stellar:contract_data:*")}
    assert keys == set(expected)
    for key, row in expected.items():
        assert json.loads(client.hget(key, "row")) == json.loads(row_json(row)), key
        assert 0 < client.ttl(key) <= 86400
    assert not list(client.scan_iter("stellar:contract_events:*"))  # no key: not sent (a warning says so)

    # DuckDB: views over the archive, refreshed at run end.
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table, rows in parquet.items():
            cur = con.execute(f'SELECT * EXCLUDE (year, month, day) FROM "{table}"')
            names = [d[0] for d in cur.description]
            assert _canon([dict(zip(names, r, strict=True)) for r in cur.fetchall()]) == _canon(rows), table
    finally:
        con.close()

    # StdoutSink: one JSON line per row of the run.
    lines = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith('{"table"')]
    by_table = {t: sorted(json.dumps(x["row"], sort_keys=True) for x in lines if x["table"] == t) for t in parquet}
    for table, rows in parquet.items():
        assert by_table[table] == sorted(json.dumps(json.loads(row_json(r)), sort_keys=True) for r in rows)


def test_filters_are_in_the_manifest_and_verify_says_filtered(tmp_path, shared_ledgers, monkeypatch, servers,
                                                              capfd):
    out, _, _ = _run(tmp_path, shared_ledgers, monkeypatch, servers, capfd)
    (m, *_) = manifests(out)
    assert m["filters"] == {"contract_data": {"table": "contract_data", "contract_ids": [KEPT_CONTRACT]}}
    code = main(["verify", "--path", str(out)])
    report = capfd.readouterr().out
    assert code != 0
    assert "filtered" in report and "contract_data" in report and "result: FAILED" in report


@pytest.mark.parametrize("example", ["parquet-archival-local.yaml", "parquet-multi-consumer-pipeline.yaml"])
def test_the_go_multi_consumer_examples_run(example, tmp_path, shared_ledgers, monkeypatch, servers, capfd):
    """The migrated Go examples, only their URLs and paths pointed at this test's servers and directories."""
    import duckdb

    from beam_pipeline.config import load_config
    from tests.harness import REPO

    pg, rd = servers
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # parquet-archival-local writes to ~/Documents/...
    monkeypatch.delenv("LEDGERS_DIR", raising=False)
    pg = _fresh_database(pg, example.split(".")[0].replace("-", "_"))
    monkeypatch.setenv("DATABASE_URL", pg)
    monkeypatch.setenv("REDIS_URL", f"redis://{rd}")
    monkeypatch.setenv("ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "analytics.db"))
    path = f"config/examples/go/{example}"
    cfg = load_config(path)
    assert main(["run", "--config", path]) == 0
    root = cfg.sink.root
    (postgres,) = [c for c in cfg.extra_consumers if type(c).__name__ == "PostgresSinkConfig"]
    for table in cfg.processors:
        rows = read_table(root, table).to_pylist()
        target = postgres.target(table, len(cfg.processors))
        assert _canon(_pg_rows(pg, target)) == _canon(rows), table
    if example.startswith("parquet-multi"):
        assert read_table(root, "operations").num_rows > 0  # payments >= 1000 on this ledger
        con = duckdb.connect(str(tmp_path / "analytics.db"), read_only=True)
        try:
            n = con.execute('SELECT count(*) FROM "stellar_archive_operations"').fetchone()[0]
        finally:
            con.close()
        assert n == read_table(root, "operations").num_rows


def _fresh_database(url: str, name: str) -> str:
    """A new empty database on the test server: tables of other tests share names with the examples'."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def test_go_postgres_connection_keys(tmp_path, shared_ledgers, servers):
    """The Go SaveToPostgreSQL's host/port/database/username keys instead of a connection_string."""
    from urllib.parse import urlsplit

    import yaml

    pg, _ = servers
    url = urlsplit(_fresh_database(pg, "go_keys"))
    out = tmp_path / "archive"
    doc = {"pipeline": {
        "name": "keys",
        "source": {"type": "FSBufferedStorageSourceAdapter", "config": {
            "path": str(shared_ledgers / "datastores" / "mainnet-p22-56065483"),
            "start_ledger": 56065483, "end_ledger": 56065483}},
        "processors": [{"type": "LedgerReader"}, {"type": "TransformToAppTransaction"}],
        "consumers": [
            {"type": "SaveToParquet", "config": {"local_path": str(out)}},
            {"type": "SaveToPostgreSQL", "config": {"host": url.hostname, "port": url.port,
                                                    "database": url.path.strip("/"), "username": "postgres",
                                                    "sslmode": "disable", "table_name": "stellar"}},
        ]}}
    cfg = tmp_path / "keys.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    assert main(["run", "--config", str(cfg)]) == 0
    for table in ("ledgers", "transactions"):
        assert _canon(_pg_rows(url.geturl(), f"stellar_{table}")) == _canon(read_table(out, table).to_pylist())

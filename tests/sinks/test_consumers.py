"""Several consumers in one Go-shaped pipeline: PostgreSQL, Redis, DuckDB and stdout against the Parquet output.

Real servers (tests/servers.py) on 127.0.0.1; real ledgers (standalone-p25-loadtest: Soroban
contract data and events). Every check compares values with the Parquet rows of the same run.
"""

from __future__ import annotations

import json
from datetime import timezone
from decimal import Decimal
from pathlib import Path

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


# --- a misconfigured consumer fails the run before anything is written ------------------------------


def _preflight_config(tmp_path, shared_ledgers, consumer: dict) -> tuple[Path, Path]:
    """The ledgers of the p25 store to a Parquet archive and `consumer`."""
    import yaml

    out = tmp_path / "archive"
    doc = {"pipeline": {
        "name": "preflight",
        "source": {"type": "FSBufferedStorageSourceAdapter",
                   "config": {"path": str(shared_ledgers / STORE), "start_ledger": FIRST, "end_ledger": LAST}},
        "processors": [{"type": "LatestLedger"}],
        "consumers": [{"type": "SaveToParquet", "config": {"local_path": str(out)}}, consumer]}}
    cfg = tmp_path / "job.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    return cfg, out


def _refused(capfd, cfg: Path, out: Path, *named: str) -> str:
    """The run exits 2 naming the consumer and server, and the archive holds nothing: no file, no manifest."""
    code = main(["run", "--config", str(cfg)])
    text = "".join(capfd.readouterr())
    assert code == 2, text
    for part in named:
        assert part in text, text
    assert "nothing was written" in text, text
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()], sorted(out.rglob("*"))
    return text


@pytest.fixture(scope="module")
def pg_roles(servers):
    """Roles of the test server: `writer` may create tables in its own database, `reader` may not."""
    import psycopg

    pg, _ = servers
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE ROLE writer LOGIN PASSWORD 'writer-secret-1'")
        conn.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-secret-1'")
        conn.execute('CREATE DATABASE "preflight" OWNER writer')
    base = pg.rsplit("@", 1)[1].rsplit("/", 1)[0]  # 127.0.0.1:PORT
    return base


def _pg_consumer(url: str) -> dict:
    return {"type": "SaveToPostgreSQL", "config": {"connection_string": url, "table_name": "preflight"}}


def _pg_tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


@pytest.mark.parametrize("case", ["wrong password", "unreachable port", "no CREATE permission",
                                  "no INSERT permission"])
def test_a_postgres_consumer_that_cannot_write_fails_the_run_before_the_archive(case, tmp_path, shared_ledgers,
                                                                                servers, pg_roles, capfd):
    from tests.servers import free_port

    pg, _ = servers
    host = pg_roles
    url = {
        "wrong password": f"postgresql://writer:not-the-password@{host}/preflight",
        "unreachable port": f"postgresql://writer:writer-secret-1@127.0.0.1:{free_port()}/preflight",
        "no CREATE permission": f"postgresql://reader:reader-secret-1@{host}/preflight",
        "no INSERT permission": f"postgresql://reader:reader-secret-1@{host}/preflight",
    }[case]
    consumer = _pg_consumer(url)
    if case == "no INSERT permission":
        consumer["config"].update(table_name="ro_ledgers", create_table=False)
    cfg, out = _preflight_config(tmp_path, shared_ledgers, consumer)
    if case == "no INSERT permission":  # the table exists as the sink makes it (by writer); reader may only read it
        import psycopg

        from beam_pipeline.config import load_config
        from beam_pipeline.sinks.postgres import create_table_sql
        from beam_pipeline.sinks.preflight import consumer_schemas

        schema = consumer_schemas(load_config(str(cfg)))["ledgers"]
        with psycopg.connect(f"postgresql://writer:writer-secret-1@{host}/preflight", autocommit=True) as conn:
            conn.execute(create_table_sql("ro_ledgers", "ledgers", schema))
            conn.execute('GRANT SELECT ON "ro_ledgers" TO reader')
    server = url.split("://", 1)[1].split(":", 1)[0] + "@" + url.rsplit("@", 1)[1]  # user@host:port/db
    text = _refused(capfd, cfg, out, f"consumer SaveToPostgreSQL (postgresql://{server})", {
        "wrong password": 'password authentication failed for user "writer"',
        "unreachable port": "Connection refused",
        "no CREATE permission": "permission denied for schema public",
        "no INSERT permission": "permission denied for table ro_ledgers",
    }[case])
    assert "secret" not in text and "not-the-password" not in text  # the password is in no message
    if case != "unreachable port":
        owner = f"postgresql://writer:writer-secret-1@{host}/preflight"
        assert "preflight" not in _pg_tables(owner)  # the check created nothing either


def test_a_postgres_consumer_with_a_working_role_writes_both(tmp_path, shared_ledgers, pg_roles, capfd):
    url = f"postgresql://writer:writer-secret-1@{pg_roles}/preflight"
    cfg, out = _preflight_config(tmp_path, shared_ledgers, _pg_consumer(url))
    assert main(["run", "--config", str(cfg)]) == 0, "".join(capfd.readouterr())
    assert len(manifests(out)) == 1
    rows = read_table(out, "ledgers").to_pylist()
    assert [r["sequence"] for r in rows] == list(range(FIRST, LAST + 1))
    assert _canon(_pg_rows(url, "preflight")) == _canon(rows)


@pytest.fixture(scope="module")
def redis_users(servers):
    """ACL users of the test server: `writer` may run what SaveToRedis runs, `nohset` all of it but HSET."""
    import redis

    _, rd = servers
    client = redis.Redis.from_url(f"redis://{rd}")
    client.acl_setuser("writer", enabled=True, passwords=["+writer-secret-2"], keys=["stellar:*"],
                       commands=["+ping", "+script|load", "+script|exists", "+evalsha", "+hmget", "+hset", "+expire"])
    client.acl_setuser("nohset", enabled=True, passwords=["+nohset-secret-2"], keys=["stellar:*"],
                       commands=["+ping", "+script|load", "+script|exists", "+evalsha", "+hmget", "+expire"])
    client.close()
    return rd


def _redis_consumer(address: str, password: str | None = None) -> dict:
    config = {"address": address, "key_prefix": "stellar:pf:", "ttl_seconds": 60}
    if password is not None:
        config["password"] = password
    return {"type": "SaveToRedis", "config": config}


@pytest.mark.parametrize("case", ["wrong password", "unreachable port", "no HSET permission", "other keys only"])
def test_a_redis_consumer_that_cannot_write_fails_the_run_before_the_archive(case, tmp_path, shared_ledgers,
                                                                             redis_users, capfd):
    import redis

    from tests.servers import free_port

    rd = redis_users
    consumer = {
        "wrong password": _redis_consumer(f"redis://writer:not-the-password@{rd}"),
        "unreachable port": _redis_consumer(f"127.0.0.1:{free_port()}"),
        "no HSET permission": _redis_consumer(f"redis://nohset@{rd}", "nohset-secret-2"),
        "other keys only": _redis_consumer(f"redis://writer:writer-secret-2@{rd}"),
    }[case]
    if case == "other keys only":
        consumer["config"]["key_prefix"] = "other:"
    cfg, out = _preflight_config(tmp_path, shared_ledgers, consumer)
    server = "127.0.0.1:" + consumer["config"]["address"].rsplit(":", 1)[1]
    text = _refused(capfd, cfg, out, f"consumer SaveToRedis (redis://{server})", {
        "wrong password": "invalid username-password pair",
        "unreachable port": "Connection refused",
        "no HSET permission": "the server's ACL refuses HSET stellar:pf:latest_ledger",
        "other keys only": "no permissions to access one of the keys",
    }[case])
    assert "secret" not in text and "not-the-password" not in text
    client = redis.Redis.from_url(f"redis://{rd}")
    assert not list(client.scan_iter("stellar:pf:*")) and not list(client.scan_iter("other:*"))


def test_a_redis_consumer_with_a_working_user_writes_both(tmp_path, shared_ledgers, redis_users, capfd):
    import redis

    rd = redis_users
    cfg, out = _preflight_config(tmp_path, shared_ledgers, _redis_consumer(f"redis://writer@{rd}", "writer-secret-2"))
    assert main(["run", "--config", str(cfg)]) == 0, "".join(capfd.readouterr())
    assert len(manifests(out)) == 1
    rows = read_table(out, "ledgers").to_pylist()
    latest = redis.Redis.from_url(f"redis://{rd}").hgetall("stellar:pf:latest_ledger")
    assert int(latest[b"ledger"]) == LAST and json.loads(latest[b"row"]) == json.loads(row_json(rows[-1]))

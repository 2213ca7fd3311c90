"""SaveToPostgreSQL: the decoded rows upserted into typed PostgreSQL tables, idempotent by natural key.

Column types come from the table's Arrow schema (`PG_TYPES`). Each table has a primary key:
its natural key where it has one (`NATURAL_KEYS`), else ``_row_key``, a digest of the row's
values (metadata columns left out) and of its rank among identical rows of its ledger, so that
a rerun or a retried bundle writes the same keys and ``INSERT ... ON CONFLICT`` never
duplicates a row. psycopg 3 is the client (the maintained PostgreSQL driver; its
`executemany` pipelines the batch).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.consumers import PostgresSinkConfig
from beam_pipeline.handoff import TableChunk, chunk_to_batch

log = logging.getLogger(__name__)

NATURAL_KEYS = {
    "ledgers": ("sequence",),
    "transactions": ("id",),
    "operations": ("id",),
    "trades": ("history_operation_id", "order"),
}
ROW_KEY = "_row_key"
METADATA_PREFIX = "_"


def pg_type(t: pa.DataType) -> str:
    """The PostgreSQL column type that holds every value of an Arrow type exactly."""
    if pa.types.is_list(t):
        return pg_type(t.value_type) + "[]"
    simple = {
        pa.bool_(): "boolean", pa.int32(): "integer", pa.int64(): "bigint", pa.uint32(): "bigint",
        pa.uint64(): "numeric(20,0)", pa.float64(): "double precision", pa.string(): "text", pa.binary(): "bytea",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_timestamp(t):
        return "timestamptz"
    raise TypeError(f"no PostgreSQL type for Arrow type {t}")


def key_columns(table: str) -> tuple[str, ...]:
    return NATURAL_KEYS.get(table, (ROW_KEY,))


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(target: str, table: str, schema: pa.Schema) -> str:
    cols = [f"{quote(f.name)} {pg_type(f.type)}" for f in schema]
    if key_columns(table) == (ROW_KEY,):
        cols.insert(0, f"{quote(ROW_KEY)} text NOT NULL")
    keys = ", ".join(quote(k) for k in key_columns(table))
    return f"CREATE TABLE IF NOT EXISTS {quote(target)} ({', '.join(cols)}, PRIMARY KEY ({keys}))"


def insert_sql(target: str, table: str, columns: list[str], upsert: bool) -> str:
    keys = key_columns(table)
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    rest = [c for c in columns if c not in keys]
    if upsert and rest:
        action = "DO UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in rest)
    else:
        action = "DO NOTHING"
    conflict = ", ".join(quote(k) for k in keys)
    return f"INSERT INTO {quote(target)} ({names}) VALUES ({values}) ON CONFLICT ({conflict}) {action}"


def insert_columns(table: str, schema: pa.Schema) -> list[str]:
    """The columns an insert of `table` writes: the schema's, after ``_row_key`` for tables without a natural key."""
    names = list(schema.names)
    return [ROW_KEY, *names] if key_columns(table) == (ROW_KEY,) else names


def prepare_tables(cur, cfg: PostgresSinkConfig, schemas: dict[str, pa.Schema]) -> None:
    """``create_table``: creates the tables, or adds the columns an earlier run's table lacks (`cur`'s transaction)."""
    # One creator at a time: concurrent CREATE TABLE IF NOT EXISTS can collide in the catalog.
    cur.execute("SELECT pg_advisory_xact_lock(54017)")
    for table, schema in schemas.items():
        target = cfg.target(table, len(schemas))
        cur.execute(create_table_sql(target, table, schema))
        # A table of an earlier run without some columns (include_metadata, a newer schema):
        # columns are added, never dropped, as schema_evolution does for Parquet.
        for f in schema:
            cur.execute(f"ALTER TABLE {quote(target)} ADD COLUMN IF NOT EXISTS {quote(f.name)} {pg_type(f.type)}")


PREFLIGHT_CONNECT_TIMEOUT_S = 30  # unless the connection string sets connect_timeout


def server_name(cfg: PostgresSinkConfig) -> str:
    """The server and database a consumer writes to, without its password: ``postgresql://user@host:port/db``."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(cfg.connection_string)
    except Exception:  # noqa: BLE001 - no driver, or a string it cannot parse: the error itself says which
        return "postgresql://<connection_string>"
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"


def preflight(cfg: PostgresSinkConfig, schemas: dict[str, pa.Schema]) -> None:
    """Connects and checks, without writing anything, that the sink's setup and inserts would succeed.

    In one transaction that is rolled back: the setup's own ``CREATE TABLE`` / ``ADD COLUMN``
    statements (``create_table``), then ``EXPLAIN`` of each table's insert, which PostgreSQL checks
    like the insert itself: the table exists, the role may insert (and update, for upserts), the
    columns and the ``ON CONFLICT`` key match. Raises the driver's error (psycopg.Error) otherwise.
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    timeout = {} if "connect_timeout" in conninfo_to_dict(cfg.connection_string) else {
        "connect_timeout": PREFLIGHT_CONNECT_TIMEOUT_S}
    conn = psycopg.connect(cfg.connection_string, **timeout)
    try:
        with conn.cursor() as cur:
            if cfg.create_table:
                prepare_tables(cur, cfg, schemas)
            for table, schema in schemas.items():
                columns = insert_columns(table, schema)
                sql = insert_sql(cfg.target(table, len(schemas)), table, columns, cfg.upsert)
                cur.execute("EXPLAIN " + sql, [None] * len(columns))
        conn.rollback()  # nothing of the check stays: the tables appear when the job's writers start
    finally:
        conn.close()  # (after an error: closing an open transaction rolls it back)


def row_keys(rows: list[dict], ledger_column: str) -> list[str]:
    """Digests of each row's non-metadata values and its rank among identical rows of its ledger."""
    seen: Counter = Counter()
    keys = []
    for row in rows:
        content = json.dumps(
            [(k, v) for k, v in row.items() if not k.startswith(METADATA_PREFIX)], default=str, sort_keys=False
        )
        digest = hashlib.sha256(content.encode()).hexdigest()
        seen[(row.get(ledger_column), digest)] += 1
        keys.append(f"{digest}:{seen[(row.get(ledger_column), digest)] - 1}")
    return keys


class _WriteFn(beam.DoFn):
    def __init__(self, cfg: PostgresSinkConfig, schemas: dict[str, pa.Schema]):
        self._cfg = cfg
        self._schemas = schemas
        self._rows = Metrics.counter(NAMESPACE, "postgres_rows")

    def setup(self):
        import psycopg

        self._conn = psycopg.connect(self._cfg.connection_string)
        if self._cfg.create_table:
            with self._conn.cursor() as cur:
                prepare_tables(cur, self._cfg, self._schemas)
            self._conn.commit()

    def _target(self, table: str) -> str:
        return self._cfg.target(table, len(self._schemas))

    def process(self, chunk: TableChunk):
        schema = self._schemas[chunk.table]
        batch = chunk_to_batch(chunk, schema)
        rows = batch.to_pylist()
        columns = insert_columns(chunk.table, schema)
        if columns[0] == ROW_KEY:
            from beam_pipeline.records import get_table
            from beam_pipeline.records.base import ledger_column

            keys = row_keys(rows, ledger_column(get_table(chunk.table)))
            for row, key in zip(rows, keys, strict=True):
                row[ROW_KEY] = key
        sql = insert_sql(self._target(chunk.table), chunk.table, columns, self._cfg.upsert)
        size = self._cfg.batch_size
        with self._conn.cursor() as cur:
            for i in range(0, len(rows), size):
                cur.executemany(sql, [tuple(r[c] for c in columns) for r in rows[i:i + size]])
        self._conn.commit()  # per chunk: a retried bundle rewrites the same keys
        self._rows.inc(len(rows))

    def teardown(self):
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()


class WriteToPostgres(beam.PTransform):
    """TableChunks -> rows upserted into PostgreSQL (one table per archived table)."""

    def __init__(self, cfg: PostgresSinkConfig, schemas: dict[str, pa.Schema]):
        super().__init__()
        self._fn = _WriteFn(cfg, schemas)

    def expand(self, chunks):
        return chunks | "Upsert" >> beam.ParDo(self._fn)

"""The consumers fed beside SaveToParquet: their config dataclasses and checks (no Beam imports).

Every pipeline has exactly one SaveToParquet consumer (the archive, its manifests, `verify`);
the consumers here receive the same decoded rows (`pipeline.build_pipeline`), each through a
PTransform of its own module under `beam_pipeline/sinks/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Go consumers this design cannot honour, and what to use instead.
UNSUPPORTED_CONSUMERS = {
    "SaveToWebSocket": "a Beam job has no long-lived server to push from; use SaveToRedis (latest state) or "
                       "StdoutSink piped to your own broadcaster",
    "SaveToClickHouse": "write Parquet (SaveToParquet) and load it with ClickHouse's s3()/file() table functions, "
                        "or use SaveToPostgreSQL",
    "NotificationDispatcher": "alerting is not part of an archival job; read the archive or SaveToRedis from "
                              "your alerting service",
    "SaveToMongoDB": "use SaveToPostgreSQL or SaveToDuckDB",
    "SaveToZeroMQ": "use StdoutSink (JSON lines) piped into your transport",
    "PublishToGooglePubSub": "use StdoutSink or read the archive's new partitions",
}


@dataclass(frozen=True)
class PostgresSinkConfig:
    """SaveToPostgreSQL: one typed table per processor, upserted by natural key."""

    connection_string: str = field(repr=False)
    table_name: str = ""  # one table: its name; several: the prefix of `{table_name}_{table}`
    batch_size: int = 1000
    create_table: bool = True
    upsert: bool = True  # false: ON CONFLICT DO NOTHING (first write wins)

    def target(self, table: str, n_tables: int) -> str:
        if not self.table_name:
            return table
        return self.table_name if n_tables == 1 else f"{self.table_name}_{table}"


@dataclass(frozen=True)
class DuckDBSinkConfig:
    """SaveToDuckDB: a database file with one view (or table) per archived table, refreshed at run end."""

    database_path: str
    mode: str = "views"  # views: over the Parquet archive; tables: a copy of it
    table_name: str = ""  # prefix, as SaveToPostgreSQL's


@dataclass(frozen=True)
class RedisSinkConfig:
    """SaveToRedis: the latest state per key (see sinks/redis_sink.REDIS_KEYS)."""

    address: str
    key_prefix: str = ""
    ttl_seconds: int = 0  # 0: keys do not expire
    password: str | None = field(default=None, repr=False)
    db: int = 0


@dataclass(frozen=True)
class StdoutSinkConfig:
    """StdoutSink: every row as one JSON line ({"table": ..., "row": {...}}), for trying a config."""

    format: str = "json"


ExtraConsumer = PostgresSinkConfig | DuckDBSinkConfig | RedisSinkConfig | StdoutSinkConfig

CONSUMER_CLASSES = {
    "SaveToPostgreSQL": PostgresSinkConfig,
    "SaveToDuckDB": DuckDBSinkConfig,
    "SaveToRedis": RedisSinkConfig,
    "StdoutSink": StdoutSinkConfig,
    "StdoutConsumer": StdoutSinkConfig,
}

# The Go consumers' other spellings of the same keys.
CONSUMER_RENAMES = {
    "SaveToDuckDB": {"db_path": "database_path"},
    "SaveToRedis": {"redis_address": "address", "redis_url": "address", "redis_password": "password",
                    "redis_db": "db", "ttl": "ttl_seconds"},
}

# Keys of the Go consumers that do nothing here: accepted, with a warning saying why.
CONSUMER_KEYS_WITHOUT_EFFECT = {
    "SaveToParquet": {"gcs_options": "Beam's GCS client sizes its uploads and retries itself"},
    "SaveToRedis": {"track_metrics": "the job's counters are Beam metrics (printed at the end of a run)"},
}

# The Go SaveToPostgreSQL's separate connection keys -> libpq keywords of one connection_string.
POSTGRES_PARTS = {"host": "host", "port": "port", "database": "dbname", "username": "user", "password": "password",
                  "sslmode": "sslmode", "connect_timeout": "connect_timeout"}


def postgres_connection_string(raw: dict) -> dict:
    """A Go SaveToPostgreSQL config with host/port/database/... -> one with a connection_string (libpq form)."""
    parts = {k: raw[k] for k in POSTGRES_PARTS if k in raw}
    if not parts or "connection_string" in raw:
        return raw
    rest = {k: v for k, v in raw.items() if k not in POSTGRES_PARTS}
    quoted = (f"{POSTGRES_PARTS[k]}='" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"
              for k, v in parts.items())
    return {**rest, "connection_string": " ".join(quoted)}


def check_consumer(
    cfg: ExtraConsumer, tables: tuple[str, ...], path: str, problems: list[str], warnings: list[str]
) -> None:
    """Checks beyond types: values and which tables a consumer can take."""
    if isinstance(cfg, PostgresSinkConfig):
        if not cfg.connection_string.startswith(("postgresql://", "postgres://", "host=", "dbname=", "user=")):
            problems.append(f"{path}.connection_string: expected postgresql://user@host:port/db "
                            "or 'host=... dbname=...'")
        if cfg.batch_size <= 0:
            problems.append(f"{path}.batch_size: must be greater than 0, got {cfg.batch_size}")
        if cfg.table_name and not cfg.table_name.replace("_", "").isalnum():
            problems.append(f"{path}.table_name: letters, digits and _ only, got {cfg.table_name!r}")
    elif isinstance(cfg, DuckDBSinkConfig):
        if cfg.mode not in ("views", "tables"):
            problems.append(f"{path}.mode: {cfg.mode!r} is not one of views, tables")
        if "://" in cfg.database_path:
            problems.append(f"{path}.database_path: a local file, not a URL")
    elif isinstance(cfg, RedisSinkConfig):
        if cfg.ttl_seconds < 0:
            problems.append(f"{path}.ttl_seconds: must not be negative")
        keyless = [t for t in tables if t not in REDIS_KEYS]
        if keyless and len(keyless) == len(tables):
            problems.append(f"{path}: SaveToRedis keeps the latest state per key and none of the tables has one "
                            f"(it takes {', '.join(sorted(REDIS_KEYS))})")
        elif keyless:
            warnings.append(f"{path}: SaveToRedis keeps the latest state per key; {', '.join(keyless)} "
                            "(no key) are not sent to Redis")
    elif isinstance(cfg, StdoutSinkConfig) and cfg.format != "json":
        problems.append(f"{path}.format: only json (one JSON object per line) is supported")


# --- SaveToRedis keys ------------------------------------------------------------------------------
# A table's key is ``{key_prefix}{table}:{value of each key column, ':'-joined}``; the `ledgers`
# table keeps one key, ``{key_prefix}latest_ledger`` (the Go LatestLedger processor's). A key holds
# the row with the highest ledger seen (ties: the later row of that ledger), in any delivery order.

# table -> (key columns, the column that orders versions of a key)
REDIS_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "ledgers": ((), "sequence"),
    "contract_data": (("contract_id", "ledger_key_hash"), "ledger_sequence"),
    "contract_code": (("contract_code_hash",), "ledger_sequence"),
    "accounts": (("account_id",), "ledger_sequence"),
    "trustlines": (("ledger_key",), "ledger_sequence"),
    "offers": (("offer_id",), "ledger_sequence"),
    "liquidity_pools": (("liquidity_pool_id",), "ledger_sequence"),
    "claimable_balances": (("balance_id",), "ledger_sequence"),
    "ttl": (("key_hash",), "ledger_sequence"),
}


def redis_key(prefix: str, table: str, row: dict) -> str:
    columns, _ = REDIS_KEYS[table]
    if not columns:
        return f"{prefix}latest_ledger"
    return f"{prefix}{table}:" + ":".join(str(row[c]) for c in columns)

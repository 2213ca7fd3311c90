"""SaveToRedis: the latest state per key (contract data entries, accounts, the latest ledger, ...).

Each key (`consumers.redis_key`) is a hash with ``ledger`` (the ordering column's value),
``position`` (the row's place among its ledger's rows) and ``row`` (the row as JSON). A Lua script
replaces it only with a newer version, so workers, retries and reruns may deliver rows in any
order and the key still ends with the latest one. redis-py is the client (the maintained one).
"""

from __future__ import annotations

import json

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.consumers import REDIS_KEYS, RedisSinkConfig, redis_key
from beam_pipeline.handoff import TableChunk, chunk_to_batch

# KEYS[1] key; ARGV ledger, position, row JSON, ttl seconds (0: none). Newer (ledger, position) wins.
SET_IF_NEWER = """
local cur = redis.call('HMGET', KEYS[1], 'ledger', 'position')
local ledger, position = tonumber(ARGV[1]), tonumber(ARGV[2])
if cur[1] and (tonumber(cur[1]) > ledger or (tonumber(cur[1]) == ledger and tonumber(cur[2]) > position)) then
  return 0
end
redis.call('HSET', KEYS[1], 'ledger', ARGV[1], 'position', ARGV[2], 'row', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""


# The preflight's probe (Redis 7: a shebang script, which a read-only replica refuses before running it):
# KEYS one key per table the sink writes, ARGV[1] "1" when keys expire. Returns "COMMAND key" for each
# command SET_IF_NEWER runs that the user's ACL refuses; nothing is read or written.
CHECK_ACCESS = """#!lua
local denied = {}
for _, key in ipairs(KEYS) do
  local checks = {{'hmget', key, 'ledger', 'position'}, {'hset', key, 'ledger', '0', 'position', '0', 'row', '{}'}}
  if ARGV[1] == '1' then table.insert(checks, {'expire', key, '1'}) end
  for _, args in ipairs(checks) do
    if not redis.acl_check_cmd(unpack(args)) then table.insert(denied, string.upper(args[1]) .. ' ' .. key) end
  end
end
return denied
"""
PREFLIGHT_TIMEOUT_S = 30.0


def redis_url(address: str) -> str:
    """``host:port`` (the Go configs' form) or a redis:// / rediss:// URL -> a URL for redis-py."""
    return address if "://" in address else f"redis://{address}"


def row_json(row: dict) -> str:
    return json.dumps(row, default=_plain, sort_keys=True)


def _plain(v):
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("+00:00", "Z")
    return str(v)


def server_name(cfg: RedisSinkConfig) -> str:
    """The server a consumer writes to, without credentials: ``redis://host:port/db``."""
    from beam_pipeline.util.urls import redact_url

    return redact_url(redis_url(cfg.address))


def connect(cfg: RedisSinkConfig, **options):
    import redis

    return redis.Redis.from_url(redis_url(cfg.address), password=cfg.password, db=cfg.db, **options)


def preflight(cfg: RedisSinkConfig, tables: tuple[str, ...]) -> None:
    """Connects and checks, without writing anything, that the server takes the sink's commands.

    PING (reachable, authenticated, the database exists), SCRIPT EXISTS and LOAD and EVALSHA (what
    the writers' pipelines send; loading the script into the server's cache writes no key), and the
    commands SET_IF_NEWER runs on the keys of each table, against the user's ACL (`CHECK_ACCESS`).
    Raises the driver's error (redis.RedisError), or PermissionError naming the refused commands.
    """
    from redis.exceptions import ResponseError

    client = connect(cfg, socket_connect_timeout=PREFLIGHT_TIMEOUT_S, socket_timeout=PREFLIGHT_TIMEOUT_S)
    try:
        client.ping()
        set_if_newer = client.register_script(SET_IF_NEWER)
        if not client.script_exists(set_if_newer.sha)[0]:
            client.script_load(SET_IF_NEWER)
        keys = sorted({redis_key(cfg.key_prefix, t, dict.fromkeys(REDIS_KEYS[t][0], "preflight"))
                       for t in tables if t in REDIS_KEYS})
        try:
            denied = client.register_script(CHECK_ACCESS)(keys=keys, args=["1" if cfg.ttl_seconds else "0"])
        except ResponseError as e:
            if "acl_check_cmd" not in str(e) and "compiling" not in str(e):
                raise
            return  # a server before Redis 7 (no shebang scripts, no ACL checks from Lua): PING must do
        if denied:
            raise PermissionError("the server's ACL refuses " + ", ".join(
                d.decode() if isinstance(d, bytes) else str(d) for d in denied))
    finally:
        client.close()


class _WriteFn(beam.DoFn):
    def __init__(self, cfg: RedisSinkConfig, schemas: dict[str, pa.Schema]):
        self._cfg = cfg
        self._schemas = schemas
        self._keys = Metrics.counter(NAMESPACE, "redis_keys_set")

    def setup(self):
        self._client = connect(self._cfg)
        self._script = self._client.register_script(SET_IF_NEWER)

    def process(self, chunk: TableChunk):
        if chunk.table not in REDIS_KEYS:
            return  # a table without a key (config validation warned)
        _, order_column = REDIS_KEYS[chunk.table]
        rows = chunk_to_batch(chunk, self._schemas[chunk.table]).to_pylist()
        pipe = self._client.pipeline(transaction=False)
        positions: dict = {}
        for row in rows:
            ledger = row[order_column]
            positions[ledger] = positions.get(ledger, -1) + 1
            key = redis_key(self._cfg.key_prefix, chunk.table, row)
            self._script(keys=[key], args=[ledger, positions[ledger], row_json(row), self._cfg.ttl_seconds],
                         client=pipe)
        self._keys.inc(sum(pipe.execute()))

    def teardown(self):
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()


class WriteToRedis(beam.PTransform):
    """TableChunks -> the latest row per key in Redis."""

    def __init__(self, cfg: RedisSinkConfig, schemas: dict[str, pa.Schema]):
        super().__init__()
        self._fn = _WriteFn(cfg, schemas)

    def expand(self, chunks):
        return chunks | "SetLatest" >> beam.ParDo(self._fn)

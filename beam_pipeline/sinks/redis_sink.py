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


class _WriteFn(beam.DoFn):
    def __init__(self, cfg: RedisSinkConfig, schemas: dict[str, pa.Schema]):
        self._cfg = cfg
        self._schemas = schemas
        self._keys = Metrics.counter(NAMESPACE, "redis_keys_set")

    def setup(self):
        import redis

        self._client = redis.Redis.from_url(redis_url(self._cfg.address), password=self._cfg.password,
                                            db=self._cfg.db)
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

"""Before anything is written: every database consumer reachable, authenticated and allowed to write.

The consumers beside SaveToParquet write from their own DoFns, which connect only when the
runner starts them; a wrong password or a missing permission would then fail the run after the
Parquet commit, half done. The launcher calls `check_consumers` before it touches the archive
(`job.run`): each PostgreSQL and Redis consumer connects and checks, without writing anything,
what its writers will do (`postgres.preflight`, `redis_sink.preflight`). A failure is a
`ConsumerUnavailable` naming the consumer and its server (no password: the name is built without
it, and the driver's message is redacted). A server that fails later, during the write, fails the
run as before (README: "When a consumer's server fails").
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.config import PipelineConfig
from beam_pipeline.consumers import PostgresSinkConfig, RedisSinkConfig
from beam_pipeline.util import secrets
from beam_pipeline.util.errors import first_line


class ConsumerUnavailable(RuntimeError):
    """A consumer's server cannot be reached, refuses the credentials, or refuses what the sink does."""


def consumer_schemas(cfg: PipelineConfig) -> dict[str, pa.Schema]:
    """The Arrow schema of each archived table, as every consumer receives its rows."""
    from beam_pipeline.records import get_table
    from beam_pipeline.records.base import output_schema

    sink = cfg.sink
    return {t: output_schema(get_table(t), sink.xdr_encoding, sink.include_metadata) for t in cfg.processors}


def check_consumers(cfg: PipelineConfig) -> None:
    """Checks every PostgreSQL and Redis consumer; raises ConsumerUnavailable for the first that fails."""
    checked = [c for c in cfg.extra_consumers if isinstance(c, (PostgresSinkConfig, RedisSinkConfig))]
    if not checked:
        return
    schemas = consumer_schemas(cfg)
    seen: dict[str, int] = {}
    for consumer in checked:
        if isinstance(consumer, PostgresSinkConfig):
            from beam_pipeline.sinks import postgres

            kind, module, wants = "SaveToPostgreSQL", postgres, schemas
        else:
            from beam_pipeline.sinks import redis_sink

            kind, module, wants = "SaveToRedis", redis_sink, cfg.processors
        seen[kind] = seen.get(kind, 0) + 1
        secrets.register(secrets.config_secrets(consumer))  # the launcher did; a library caller may not have
        try:
            module.preflight(consumer, wants)
        except Exception as e:  # noqa: BLE001 - any failure of the check is the consumer's, named below
            nth = f" #{seen[kind]}" if sum(isinstance(c, type(consumer)) for c in checked) > 1 else ""
            raise ConsumerUnavailable(
                f"consumer {kind}{nth} ({module.server_name(consumer)}): {secrets.redact(first_line(e))}; "
                "nothing was written (fix the consumer's config or the server, then rerun)"
            ) from None

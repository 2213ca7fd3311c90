"""StdoutSink: every decoded row as one JSON line, ``{"table": ..., "row": {...}}``, for trying a config.

Lines go to the standard output of the worker that decoded them (the terminal for local runs).
"""

from __future__ import annotations

import json
import sys

import apache_beam as beam
import pyarrow as pa

from beam_pipeline.consumers import StdoutSinkConfig
from beam_pipeline.handoff import TableChunk, chunk_to_batch
from beam_pipeline.sinks.redis_sink import row_json


class _PrintFn(beam.DoFn):
    def __init__(self, schemas: dict[str, pa.Schema]):
        self._schemas = schemas

    def process(self, chunk: TableChunk):
        rows = chunk_to_batch(chunk, self._schemas[chunk.table]).to_pylist()
        table = json.dumps(chunk.table)
        sys.stdout.write("".join(f'{{"table": {table}, "row": {row_json(r)}}}\n' for r in rows))
        sys.stdout.flush()


class WriteToStdout(beam.PTransform):
    def __init__(self, cfg: StdoutSinkConfig, schemas: dict[str, pa.Schema]):
        super().__init__()
        self._fn = _PrintFn(schemas)

    def expand(self, chunks):
        return chunks | "PrintJsonLines" >> beam.ParDo(self._fn)

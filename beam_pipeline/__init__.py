"""Stellar ledger archival pipeline on Apache Beam.

Reads SEP-54 ledger data stores (local, GCS, S3) or Stellar RPC, turns each ledger into
stellar-etl compatible rows and writes Hive-partitioned Parquet.
"""

__version__ = "0.1.0"

# Every Beam counter and distribution of the job lives in this namespace (summary, Dataflow UI).
METRICS_NAMESPACE = "stellar_archive"
# `pipeline.on_error` value, and the tag of the decode step's dead-letter output.
DEAD_LETTER = "dead_letter"

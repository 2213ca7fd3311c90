"""Stellar ledger archival pipeline on Apache Beam.

Reads SEP-54 ledger data stores (local, GCS, S3) or Stellar RPC, turns each ledger into
stellar-etl compatible rows and writes Hive-partitioned Parquet.
"""

__version__ = "0.1.0"

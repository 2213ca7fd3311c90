"""``python -m beam_pipeline verify``: is the archive exact? Nothing lost, nothing duplicated, nothing misplaced.

    python -m beam_pipeline verify --config FILE [--start-ledger N] [--end-ledger M] [--manifests]
    python -m beam_pipeline verify --path ROOT [--partition-by S] [--ledgers-per-file N]
                                   [--start-ledger N] [--end-ledger M] [--tables a,b] [--manifests]
    python -m beam_pipeline verify --config FILE | --path ROOT --chain [--trust LEDGER:HASH ...]
                                   [--trust-file FILE] [--network NAME]

It reads the archive, never the source, so it can check an archive years after the data store is
gone. Per table it reports:

- **missing**: ``ledgers`` must hold one row for every ledger of the range. ``transactions`` and
  ``operations`` must hold rows for every ledger whose ``ledgers`` row says it has some. Other tables
  have no count to compare with; a ledger that no file set covers (see `sinks.filesets`) is only a
  warning there, because a table may legitimately have no rows for a ledger and an empty set leaves
  no file. ``--manifests`` closes that gap: every file a manifest lists must still be there.
- **duplicated**: a ledger whose rows come from more than one file set, or an id present twice.
- **misplaced**: a row whose ledger/close time belongs in another partition directory than the one
  it sits in (recomputed with `partition_path`), or that lies outside its file name's coverage.
- **count mismatch**: transactions rows per ledger must equal ``successful_transaction_count +
  failed_transaction_count``; operations rows must equal ``tx_set_operation_count``. Like
  stellar-etl, the operations table holds the operations of failed transactions too, while the
  ledgers table's ``operation_count`` counts only those of successful ones (checked on testnet
  ledgers 1410048-1410100: rows equal tx_set_operation_count for all 53 ledgers, operation_count
  for 5).

The layout (partition scheme, ledgers per file) is the config's or the flags', else the newest
manifest's ``layout``, else read from the directory names (archives older than that field).

Files are read through Beam's FileSystems (local, gs://, s3://), only the columns needed (ledger,
id, close time; the count columns of ``ledgers``), batch by batch; DuckDB reduces the rows to one
line per (ledger, file set) with a disk-backed database, so memory stays bounded on 100k+ ledgers.

Exit codes: 0 the archive is exact, 1 problems were found, 2 bad arguments or config.

With ``--chain`` it answers another question, whether the rows are the real chain's: ledger hashes,
header columns, hash links, transaction results against each header's ``txSetResultHash``,
envelopes against their network hashes, trust anchors and the recorded network (see `chain`).

The package, by station: `model` (target, findings), `scan` (listing, reading into DuckDB),
`checks` (the per-table SQL checks), `manifests` (``--manifests``, the recorded layout), `run`
(one verification start to end), `cli` (arguments, report text, exit code); for ``--chain``,
`chain_source` (the needed columns in ledger order), `chain_checks` (per-ledger proofs) and
`chain` (the pass over the range, anchors, network, report).
"""

from beam_pipeline.verify.checks import check_table
from beam_pipeline.verify.cli import add_arguments, format_report, main
from beam_pipeline.verify.manifests import check_manifests, load_manifests, newest_layout
from beam_pipeline.verify.model import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    ArchiveFile,
    Report,
    TableReport,
    Target,
    VerifyError,
)
from beam_pipeline.verify.run import verify
from beam_pipeline.verify.scan import ArchiveDb as ArchiveDb  # the SQL partition buckets are tested against the writer
from beam_pipeline.verify.scan import find_tables, infer_layout, list_table

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "ArchiveFile",
    "Report",
    "TableReport",
    "Target",
    "VerifyError",
    "add_arguments",
    "check_manifests",
    "check_table",
    "find_tables",
    "format_report",
    "infer_layout",
    "list_table",
    "load_manifests",
    "main",
    "newest_layout",
    "verify",
]

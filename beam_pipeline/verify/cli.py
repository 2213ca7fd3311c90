"""The ``verify`` command line: arguments to a `Target`, a `Report` to text and an exit code."""

from __future__ import annotations

import argparse
import sys

from beam_pipeline.argcheck import StrictParser, check_command
from beam_pipeline.config import LEDGER_MAX
from beam_pipeline.verify.model import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Report, Target, VerifyError, examples
from beam_pipeline.verify.run import verify


def format_report(report: Report) -> str:
    """One line per table with its status, then each problem under it; the last line is the verdict."""
    lpf = f", ledgers_per_file {report.ledgers_per_file}" if report.partition_by == "ledger_range" else ""
    lines = [
        f"verify {report.target.root}: ledgers {report.start}-{report.end} "
        f"(partition_by {report.partition_by}{lpf})"
    ]
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    for t in report.tables:
        status = "ok" if t.ok else "FAILED"
        lines.append(f"  {t.table:<24} {t.rows:>12,} rows in {t.files:>5} files: {status}")
        for kind, messages in t.problems.items():
            for m in messages:
                lines.append(f"    {kind}: {m}")
        for w in t.warnings:
            lines.append(f"    warning: {w}")
    if report.target.check_manifests:
        status = "ok" if not report.manifest_problems else "FAILED"
        lines.append(f"  manifests: {report.manifest_summary or 'none'}: {status}")
        for p in examples(report.manifest_problems):
            lines.append(f"    {p}")
    if report.leftovers:
        lines.append("  leftovers of crashed runs: FAILED")
        for p in examples(report.leftovers):
            lines.append(f"    {p}")
    lines.append("result: " + ("ok, the archive is exact" if report.ok else "FAILED"))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags, on a caller's parser (so they can be documented or embedded elsewhere)."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="The job config: verifies its sink root, range, tables and layout.")
    where.add_argument("--path", help="An archive root: local directory, gs://bucket/prefix or s3://bucket/prefix.")
    parser.add_argument("--pipeline", help="With --config holding several named pipelines: the one to verify.")
    parser.add_argument("--start-ledger", "--start_ledger", dest="start_ledger", type=int)
    parser.add_argument("--end-ledger", "--end_ledger", dest="end_ledger", type=int)
    parser.add_argument("--partition-by", "--partition_by", dest="partition_by",
                        choices=("ledger_day", "hour", "ledger_range"),
                        help="With --path: the partition scheme (default: the newest manifest's layout, else "
                             "the directory names).")
    parser.add_argument("--ledgers-per-file", "--ledgers_per_file", dest="ledgers_per_file", type=int,
                        help="With --path and ledger_range: ledgers per directory (default: as for --partition-by).")
    parser.add_argument("--tables", help="Comma-separated tables (default: the config's, or every table found).")
    parser.add_argument("--manifests", action="store_true",
                        help="Also check files against the run manifests: present, size, sha256.")
    chain = parser.add_argument_group("--chain: prove the rows are the chain's (see verify/chain.py)")
    chain.add_argument("--chain", action="store_true",
                       help="Prove the ledgers hash-chain, headers match their rows, transaction results hash "
                            "to the headers, instead of the layout checks (--tables ledgers: without the "
                            "transactions checks).")
    chain.add_argument("--trust", action="append", default=[], metavar="LEDGER:HASH",
                       help="With --chain: a ledger hash known from elsewhere that pins the chain (repeatable).")
    chain.add_argument("--trust-file", "--trust_file", dest="trust_file", metavar="FILE",
                       help="With --chain: a local file of LEDGER:HASH (or LEDGER HASH) lines, # comments.")
    chain.add_argument("--network", metavar="NAME|PASSPHRASE",
                       help="With --chain: the network the runs must have recorded (pubnet, testnet, futurenet "
                            "or a passphrase; default: the config's source network).")


def main(argv: list[str]) -> int:
    """Runs ``verify``; returns EXIT_OK, EXIT_PROBLEMS, or EXIT_USAGE (the archive cannot be verified)."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_pipeline import verify as package
    from beam_pipeline.config import ConfigError

    description = package.__doc__.split("\n\n")[0]  # the package docstring is the command's documentation
    parser = StrictParser(prog="python -m beam_pipeline verify", description=description)
    add_arguments(parser)
    try:
        # Flags not ours must be Beam's (``--s3_endpoint_url`` ...): they configure FileSystems, as for ``run``.
        args, beam_args = check_command(argv, parser)
    except SystemExit as e:
        return EXIT_USAGE if e.code else EXIT_OK
    options = PipelineOptions(beam_args)
    try:
        target = _target(args, options)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:  # VerifyError, or util.storage's StorageConfigError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    FileSystems.set_options(options)
    if args.chain:
        if args.manifests or args.partition_by or args.ledgers_per_file:
            print("error: --chain reads rows wherever they sit; --manifests, --partition-by and --ledgers-per-file "
                  "go with the layout checks (verify without --chain)", file=sys.stderr)
            return EXIT_USAGE
        return _main_chain(args, target)
    if args.trust or args.trust_file or args.network:
        print("error: --trust, --trust-file and --network go with --chain", file=sys.stderr)
        return EXIT_USAGE
    import duckdb

    try:
        report = verify(target)
    except VerifyError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (duckdb.OutOfMemoryException, duckdb.IOException) as e:
        # Not a finding about the archive: the machine could not hold the check. Exit 2, not 1.
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"error: verify {target.root}: DuckDB ran out of memory or disk space ({first}); narrow the range "
              "with --start-ledger/--end-ledger or free space in the temporary directory", file=sys.stderr)
        return EXIT_USAGE
    print(format_report(report), flush=True)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _main_chain(args: argparse.Namespace, target: Target) -> int:
    """``verify --chain``: the chain proof of `target`'s root and range; 0 only if all of it is proven."""
    from beam_pipeline.config import resolve_network
    from beam_pipeline.verify.chain import (
        ChainTarget,
        format_chain_report,
        merge_anchors,
        parse_anchor,
        read_anchor_file,
        verify_chain,
    )

    try:
        anchors = [parse_anchor(a) for a in args.trust]
        if args.trust_file:
            anchors += read_anchor_file(args.trust_file)
        chain_target = ChainTarget(
            root=target.root,
            start=target.start,
            end=target.end,
            anchors=merge_anchors(anchors),
            network=resolve_network(args.network) if args.network else args.config_network,
            transactions=None if target.tables is None else "transactions" in target.tables,
        )
        report = verify_chain(chain_target)
    except ValueError as e:  # VerifyError or a bad anchor
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(format_chain_report(report), flush=True)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _target(args: argparse.Namespace, options) -> Target:
    """With --config the job's root, range, tables and layout; with --path only what the flags say."""
    from beam_pipeline.records import table_names
    from beam_pipeline.util import storage

    tables = tuple(t.strip() for t in args.tables.split(",") if t.strip()) if args.tables else None
    unknown = sorted(set(tables or ()) - set(table_names()))
    if unknown:
        raise VerifyError(f"--tables: unknown tables {', '.join(unknown)} (known: {', '.join(table_names())})")
    if args.config:
        from beam_pipeline.config import load_config

        cfg = load_config(args.config, options, args.pipeline)
        if args.partition_by or args.ledgers_per_file:
            raise VerifyError("--partition-by / --ledgers-per-file go with --path; the config gives them")
        cfg = cfg.with_range(args.start_ledger, args.end_ledger)
        storage.apply_options(cfg, options)
        args.config_network = cfg.source.network_passphrase
        return Target(
            root=cfg.sink.root,
            partition_by=cfg.sink.partition_by,
            ledgers_per_file=cfg.sink.ledgers_per_file,
            start=cfg.source.start_ledger,
            end=cfg.source.end_ledger,
            tables=tables or cfg.processors,
            check_manifests=args.manifests,
            table_format=cfg.sink.table_format,
            iceberg_catalog=cfg.sink.iceberg_catalog,
            iceberg_namespace=cfg.sink.iceberg_namespace,
        )
    storage.prepare(args.path)
    args.config_network = None
    if args.ledgers_per_file is not None and args.ledgers_per_file < 1:
        raise VerifyError("--ledgers-per-file must be at least 1")
    for flag, value in (("--start-ledger", args.start_ledger), ("--end-ledger", args.end_ledger)):
        if value is not None and not 1 <= value <= LEDGER_MAX:
            raise VerifyError(f"{flag}: {value} is not a ledger sequence (1 to {LEDGER_MAX})")
    return Target(
        root=args.path,
        partition_by=args.partition_by,
        ledgers_per_file=args.ledgers_per_file,
        start=args.start_ledger,
        end=args.end_ledger,
        tables=tables,
        check_manifests=args.manifests,
    )

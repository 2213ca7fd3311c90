"""Command line: argument parsing and wiring only.

    python -m beam_pipeline run --config FILE [--start-ledger N] [--end-ledger M] [Beam options ...]
    python -m beam_pipeline validate --config FILE [--pipeline NAME]
    python -m beam_pipeline sample --out DIR [--ledgers N]
    python -m beam_pipeline query --root DIR --sql "SELECT ..."
    python -m beam_pipeline schemas [--out docs/tables.md | --bigquery DIR [--xdr-encoding binary] [--include-metadata]]
    python -m beam_pipeline verify --config FILE | --path ROOT [--manifests] (see beam_pipeline/verify/)
    python -m beam_pipeline migrate-layout --root ROOT [--dry-run]   (old range dirs and integer types -> today's)

Exit codes: 0 success, 1 the job failed, 2 bad config or arguments, 3 the job finished but wrote
dead letters (``on_error: dead_letter``).
"""

from __future__ import annotations

import json
import sys

from beam_pipeline import argcheck, job
from beam_pipeline.config import ConfigError, describe, load_config
from beam_pipeline.job import EXIT_CONFIG, EXIT_DEAD_LETTERS, EXIT_FAILED
from beam_pipeline.util import secrets

__all__ = ["EXIT_CONFIG", "EXIT_DEAD_LETTERS", "EXIT_FAILED", "main"]


def cmd_run(argv: list[str], wait: bool = True) -> int:
    """Runs the archival job (see `beam_pipeline.job`)."""
    return job.run(argv, wait)


def cmd_validate(argv: list[str]) -> int:
    parser = argcheck.StrictParser(prog="python -m beam_pipeline validate")
    parser.add_argument("--config", required=True)
    parser.add_argument("--pipeline", help="Which pipeline of a file with several (the Go `pipelines:` format).")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, pipeline=args.pipeline)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return EXIT_CONFIG
    secrets.register(secrets.config_secrets(cfg))
    for w in cfg.warnings:
        print(f"warning: {args.config}: {w}", file=sys.stderr)
    print(json.dumps(describe(cfg), indent=2, default=str))
    return 0


def cmd_sample(argv: list[str]) -> int:
    from beam_pipeline import sample

    parser = argcheck.StrictParser(prog="python -m beam_pipeline sample")
    sample.add_arguments(parser)
    sample.run(parser.parse_args(argv))
    return 0


def cmd_verify(argv: list[str]) -> int:
    from beam_pipeline import verify

    return verify.main(argv)


def cmd_query(argv: list[str]) -> int:
    from beam_pipeline import query

    parser = argcheck.StrictParser(prog="python -m beam_pipeline query")
    query.add_arguments(parser)
    return query.run(parser.parse_args(argv))


def cmd_migrate_layout(argv: list[str]) -> int:
    from beam_pipeline import migrate

    parser = argcheck.StrictParser(prog="python -m beam_pipeline migrate-layout")
    migrate.add_arguments(parser)
    return migrate.run(parser.parse_args(argv))


def cmd_schemas(argv: list[str]) -> int:
    from beam_pipeline import schemas

    parser = argcheck.StrictParser(prog="python -m beam_pipeline schemas")
    schemas.add_arguments(parser)
    return schemas.run(parser.parse_args(argv))


COMMANDS = {
    "run": cmd_run,
    "validate": cmd_validate,
    "sample": cmd_sample,
    "query": cmd_query,
    "schemas": cmd_schemas,
    "verify": cmd_verify,
    "migrate-layout": cmd_migrate_layout,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        if argv and argv[0] not in ("-h", "--help"):
            print(argcheck.command_typo(argv[0], COMMANDS), file=sys.stderr)
        print(__doc__.strip(), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else EXIT_CONFIG
    # Everything the command prints passes the secrets registry (util/secrets.py): the values its
    # config holds are redacted wherever they appear, in our messages and in anyone else's.
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = secrets.RedactingStream(out), secrets.RedactingStream(err)
    try:
        return COMMANDS[argv[0]](argv[1:])
    finally:
        sys.stdout, sys.stderr = out, err

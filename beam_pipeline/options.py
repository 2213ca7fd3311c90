"""The pipeline options this job adds to Beam's: what a flex template user can set.

Beam's own options (``--runner``, ``--temp_location``, ``--direct_num_workers`` ...) pass
through untouched. The names here are the ones ``templates/flex/metadata.json`` declares.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions


class ArchiveOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--config", dest="config", help="Job config YAML: local path, gs:// or s3:// URL.")
        parser.add_argument("--pipeline", dest="pipeline",
                            help="Which pipeline of a file with several (the Go `pipelines:` format) to run.")
        parser.add_argument("--start_ledger", "--start-ledger", dest="start_ledger", type=int,
                            help="First ledger to archive; overrides the config.")
        parser.add_argument("--end_ledger", "--end-ledger", dest="end_ledger", type=int,
                            help="Last ledger to archive (inclusive); overrides the config.")
        parser.add_argument("--start_time", "--start-time", dest="start_time",
                            help="RFC 3339 UTC time; archive from the first ledger closing at or after it.")
        parser.add_argument("--end_time", "--end-time", dest="end_time",
                            help="RFC 3339 UTC time; archive up to the last ledger closing before it.")
        parser.add_argument("--output_path", "--output-path", dest="output_path",
                            help="Override the archive root: local dir, gs://bucket/prefix or s3://bucket/prefix.")
        parser.add_argument("--run_id", "--run-id", dest="run_id",
                            help="Run id (default: derived from the start time); names files and the manifest.")


class LocalRunOptions(PipelineOptions):
    """Options of runs on this machine (the in-process runner); not template parameters."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--local_spill_dir", "--local-spill-dir", dest="local_spill_dir", default="",
            help="Where a local run keeps decoded chunks while they are shuffled, instead of in the "
                 "runner's memory (about their compressed size: ~6 KB per testnet ledger, ~0.35 MB per "
                 "busy mainnet ledger). Default: the system temp dir; 'none' keeps them in memory.",
        )

"""Dataflow flex template entry point (``FLEX_TEMPLATE_PYTHON_PY_FILE``).

The template launcher runs this file on a launcher VM with the template parameters and Dataflow's
own options as ``--name=value`` arguments (``--config``, ``--start_ledger``, ..., ``--runner``,
``--project``, ``--region``, ``--temp_location``, ``--template_location`` ...). It is deliberately
thin: it calls `beam_pipeline.job.run`, as ``python -m beam_pipeline run`` does, so a template
launch and a command-line launch build the same graph. Google requires the launch program to exit once the job is handed
over (waiting would block the launch), so for Dataflow it does not wait and prints no end-of-run
summary: the counters are in the Dataflow UI. Other runners (local tests) wait as the CLI does.

Two guards are added here. A flag that is neither a parameter ``metadata.json`` declares nor one of
Beam's options (which Dataflow passes beside them) stops the launch with exit 2, the flag and the
nearest valid one (`beam_pipeline.argcheck`); the image holds ``metadata.json`` beside this file.
And a Dataflow job whose workers would run Google's stock Beam image (no
``--sdk_container_image``, no ``--setup_file``) fails only once workers start, with an import
error for stellar-sdk, minutes after the launch reported success. Refusing the launch instead
names the fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)

from beam_pipeline import job
from beam_pipeline.argcheck import check_template
from beam_pipeline.job import EXIT_CONFIG

METADATA = Path(__file__).with_name("metadata.json")
PROG = "templates/flex/main.py"


def to_dataflow(argv: list[str]) -> bool:
    """True when these arguments launch on Dataflow (the template launcher always does)."""
    options = PipelineOptions(argv)
    runner = options.view_as(StandardOptions).runner or ""
    return runner.split(".")[-1] in ("DataflowRunner", "TestDataflowRunner") or bool(
        options.view_as(GoogleCloudOptions).template_location
    )


def missing_worker_image(argv: list[str]) -> bool:
    """True for a Dataflow launch that gives workers neither this image nor the package to install."""
    if not to_dataflow(argv):
        return False
    options = PipelineOptions(argv)
    worker = options.view_as(WorkerOptions)
    setup = options.view_as(SetupOptions)
    return not (worker.sdk_container_image or worker.worker_harness_container_image or setup.setup_file)


def run(argv: list[str] | None = None) -> int:
    """Runs (or, on Dataflow, submits) the archival job with the template's arguments; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    check_template(argv, METADATA, PROG)  # exits 2 on an undeclared parameter, before any work
    if missing_worker_image(argv):
        print(
            "error: Dataflow workers need this image: pass --sdk_container_image=<the template image>"
            " (flex template parameter sdk_container_image), or --setup_file for a launch without the image",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return job.run(argv, wait=not to_dataflow(argv))


if __name__ == "__main__":
    sys.exit(run())

"""``python -m benchmarks``: the benchmark; ``--child``/``--child-floor``: one timed run (see `runs`)."""

import sys

from benchmarks.cli import main
from benchmarks.runs import child, floor_pipeline

if len(sys.argv) > 1 and sys.argv[1] == "--child":
    sys.exit(child(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "--child-floor":
    sys.exit(floor_pipeline(sys.argv[2], sys.argv[3:]))
sys.exit(main(sys.argv[1:]))

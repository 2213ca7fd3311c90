"""The benchmark harness (``python -m benchmarks``, ``make bench``; see docs/performance.md).

Outside the production package on purpose: it is never shipped to workers, and it reaches for the
real ledgers in ``../shared``. Split by concern: `stores` (data stores, the scaled store), `phases`
(read and decode alone), `runs` (the pipeline in a child process), `report` (tables, ratios, plot)
and `cli` (the command).
"""

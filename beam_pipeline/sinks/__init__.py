"""Sinks: one module per sink (Parquet), plus the partition layout and the file-set rules."""

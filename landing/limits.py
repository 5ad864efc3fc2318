"""Sizes that bound landing, in a module light enough for the CLI to import at start."""

from __future__ import annotations

# Records per DuckDB transaction: larger batches spread each commit's fixed costs (WAL flush, the
# dedupe probe) over more rows, at the price of memory (docs/landing.md has the measurements).
DEFAULT_BATCH_SIZE = 50_000

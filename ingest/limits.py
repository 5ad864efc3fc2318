"""Sizes that bound landing, in a module light enough for the CLI to import at start."""

from __future__ import annotations

import os

# Records per DuckDB transaction: larger batches spread each commit's fixed costs (WAL flush, the
# dedupe probe) over more rows, at the price of memory (docs/landing.md has the measurements).
DEFAULT_BATCH_SIZE = 50_000
# An event is a few hundred bytes; anything this big is a bug or content that slipped through.
DEFAULT_MAX_EVENT_BYTES = int(os.environ.get("TIERWISE_MAX_EVENT_BYTES", 64 * 1024))

"""A warehouse filled with the simulator's traffic without a broker, for benchmarks of the dbt models.

    python bench/sim_warehouse.py OUT.duckdb [--days 28] [--tokens-per-day 1e8] [--rate R] [--seed 7]

Landing is benchmarked on its own (bench/landing_throughput.py); the dbt benchmarks only need the raw rows it
would write. Events go through the same contract (parse_usage / parse_gpu -> to_row) and the same
de-duplication by event id; malformed messages are skipped instead of rejected.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.simulator import SimConfig, Simulator
from landing.warehouse import GPU_COLUMNS, USAGE_COLUMNS, connect, create_raw_tables
from schemas import ContractError, parse_gpu, parse_usage

CHUNK = 100_000


def _rows(cfg: SimConfig) -> Iterator[tuple[str, dict[str, Any]]]:
    seen: set[str] = set()
    for offset, rec in enumerate(Simulator(cfg).records()):
        if rec.kind == "bad":
            continue
        try:
            event = parse_gpu(rec.value) if rec.kind == "gpu" else parse_usage(rec.value)
        except ContractError:
            continue
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        row = event.to_row()
        row.update(
            schema_version="1",
            kafka_topic="llm.gpu.v1" if rec.kind == "gpu" else "llm.usage.v1",
            kafka_partition=0,
            kafka_offset=offset,
            landed_at=datetime.now(UTC).replace(tzinfo=None),
        )
        yield rec.kind, row


def _flush(con: Any, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(columns)
    batch = pa.Table.from_pylist([{c: r.get(c) for c in names} for r in rows])  # noqa: F841 (read by DuckDB)
    con.execute(f"insert into raw.{table} ({', '.join(names)}) select {', '.join(names)} from batch")
    rows.clear()


def build(path: Path, cfg: SimConfig) -> dict[str, int]:
    """Write the simulated period into raw.usage_events / raw.gpu_usage of `path`; returns row counts."""
    con = connect(path)
    try:
        create_raw_tables(con)
        usage: list[dict[str, Any]] = []
        gpu: list[dict[str, Any]] = []
        counts = {"usage": 0, "gpu": 0}
        for kind, row in _rows(cfg):
            target = gpu if kind == "gpu" else usage
            target.append(row)
            counts[kind] += 1
            if len(target) >= CHUNK:
                _flush(
                    con,
                    "gpu_usage" if kind == "gpu" else "usage_events",
                    GPU_COLUMNS if kind == "gpu" else USAGE_COLUMNS,
                    target,
                )
        _flush(con, "usage_events", USAGE_COLUMNS, usage)
        _flush(con, "gpu_usage", GPU_COLUMNS, gpu)
        con.execute("checkpoint")
        return counts
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 2))
    parser.add_argument("--tokens-per-day", type=float, default=None)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cfg = SimConfig(days=args.days, start=args.start, tokens_per_day=args.tokens_per_day, rate=args.rate, seed=args.seed)
    print(build(args.out, cfg))


if __name__ == "__main__":
    main()

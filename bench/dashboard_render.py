"""The dashboard's first page on a year of the demo's traffic, against a baseline in the same process.

    python bench/dashboard_render.py [--days 365] [--keep DIR] [--rounds 5]

Builds (or reuses, with --keep) a warehouse of `days` days of the simulator's traffic ending today, with the demo's
workload config and a full dbt build. Then serves the dashboard in-process and times, over HTTP:
- the first page of a fresh app (cold: nothing read yet), and the median of `rounds` more (warm);
- the default page and a year-long range stacked by workload;
and as the baseline, `tierwise spend --by workload` over the same year (reports.spend.query_spend: one open and
one query of the same mart). Prints seconds and the page / baseline ratios. The issue's goal: the first page in
under a second on this data.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_year(path: Path, days: int) -> int:
    sys.path.insert(0, str(HERE))
    from sim_warehouse import build  # bench/ is not a package

    from decisions.config import load_into_warehouse
    from ingest.simulator import SimConfig
    from landing.warehouse import connect
    from pipelines.dbt_cli import run_dbt

    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    counts = build(path, SimConfig(days=days, start=start, seed=7))
    con = connect(path)
    try:
        load_into_warehouse(con)
    finally:
        con.close()
    run_dbt(["build"], path, target_path=path.parent / "target", log_path=path.parent / "logs")
    return counts["usage"]


def timed_get(client: object, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text[:300]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the warehouse in this folder")
    args = parser.parse_args()

    import os

    root = args.keep or Path(tempfile.mkdtemp(prefix="tierwise-bench-dashboard-"))
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"year-{args.days}d.duckdb"
    os.environ.setdefault("TIERWISE_CONFIG", str(HERE.parent / "decisions" / "demo.yaml"))
    if not path.exists():
        t = time.perf_counter()
        events = build_year(path, args.days)
        print(f"built {events:,} usage events over {args.days} days with dbt in {time.perf_counter() - t:.0f}s")

    from starlette.testclient import TestClient

    from reports.dashboard.app import create_app
    from reports.spend import SpendQuery, query_spend

    today = datetime.now(UTC).date()
    year_from = (today - timedelta(days=args.days - 1)).isoformat()
    year_to = (today + timedelta(days=1)).isoformat()
    pages = {"default page (30 days, by tier)": "/", "a year, by workload": f"/?from={year_from}&to={year_to}&by=workload"}

    def baseline() -> float:
        start = time.perf_counter()
        query_spend(path, SpendQuery(["workload"], date_from=datetime.fromisoformat(year_from).date()))
        return time.perf_counter() - start

    with TestClient(create_app(path)) as client:
        first = timed_get(client, "/")
        results = {name: [timed_get(client, url) for _ in range(args.rounds)] for name, url in pages.items()}
    base = statistics.median(baseline() for _ in range(args.rounds))
    print(f"baseline: `tierwise spend --by workload` over {args.days} days (open + one query): {base * 1000:.0f} ms")
    print(f"first page of a fresh app: {first * 1000:.0f} ms ({first / base:.1f}x the baseline)")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name}: median {median * 1000:.0f} ms over {args.rounds} ({median / base:.1f}x the baseline)")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

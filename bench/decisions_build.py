"""The projection models' build time against the raw event count, in the same process and run.

    python bench/decisions_build.py [--days 28] [--small 25e6] [--factor 4] [--rounds 3]

Builds two warehouses from the simulator over the same days, the second with `factor` times the traffic
(bench/sim_warehouse.py), and a full dbt build of each. Then, alternating between the two for `rounds`
rounds, rebuilds the decision models (`dbt run --select tag:decisions`) and, for contrast, priced_requests (a
model that reads raw events), and reads each node's own execution time from run_results.json, so dbt's
start-up time is left out. Prints the medians and the big / small ratios: the projection models read the
daily marts, so their ratio should stay near 1 while priced_requests grows with the events.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from datetime import date
from pathlib import Path

from ingest.simulator import SimConfig
from pipelines.dbt_cli import run_dbt

HERE = Path(__file__).resolve().parent


def build_warehouse(path: Path, days: int, tokens_per_day: float) -> int:
    import sys

    sys.path.insert(0, str(HERE))
    from sim_warehouse import build  # bench/ is not a package

    counts = build(path, SimConfig(days=days, start=date(2026, 3, 2), tokens_per_day=tokens_per_day, seed=7))
    return counts["usage"]


def node_seconds(target: Path, prefix: str = "model.") -> dict[str, float]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"]) for r in results if r["unique_id"].startswith(prefix)}


def timed(warehouse: Path, work: Path, select: str) -> float:
    target = work / "target"
    run_dbt(["run", "--select", select], warehouse, target_path=target, log_path=work / "logs")
    return sum(node_seconds(target).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--small", type=float, default=25e6, help="fleet tokens/day of the small warehouse")
    parser.add_argument("--factor", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the warehouses in this folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tierwise-bench-decisions-"))
    sizes = {"small": args.small, "big": args.small * args.factor}
    warehouses: dict[str, Path] = {}
    events: dict[str, int] = {}
    for name, tpd in sizes.items():
        path = (args.keep or root) / f"{name}.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            events[name] = build_warehouse(path, args.days, tpd)
        else:
            import duckdb

            with duckdb.connect(str(path), read_only=True) as con:
                events[name] = int(con.execute("select count(*) from raw.usage_events").fetchone()[0])  # type: ignore[index]
        work = root / name
        run_dbt(["build"], path, target_path=work / "target", log_path=work / "logs")
        warehouses[name] = path
        print(f"{name}: {events[name]:,} usage events over {args.days} days; full dbt build done")
    timings: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, path in warehouses.items():
            for label, select in (("decisions", "tag:decisions"), ("priced_requests", "priced_requests")):
                seconds = timed(path, root / name, select)
                timings.setdefault((name, label), []).append(seconds)
    print(f"\nmedian model execution time over {args.rounds} rounds (run_results.json, dbt start-up excluded)")
    for label in ("decisions", "priced_requests"):
        small = statistics.median(timings[("small", label)])
        big = statistics.median(timings[("big", label)])
        print(f"  {label:<16} small {small:6.2f}s  big {big:6.2f}s  ratio big/small {big / small:4.2f}")
    print(f"  events ratio big/small {events['big'] / events['small']:.2f}")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

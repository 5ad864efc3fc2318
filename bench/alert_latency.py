"""From producing the event that crosses a threshold to the webhook receiving the alert, with the Dagster
daemon of `tierwise ui` and the default sensor intervals.

    .venv/bin/python bench/alert_latency.py [--samples 20]

Starts its own broker and `tierwise ui` (webserver + daemon) in a temporary home, a JSON webhook receiver on
loopback, and an alerts.yaml with one rule (5M tokens/day) sent to that webhook. Each sample is a new workload
whose one event carries 6M tokens: the lag sensor (every 30 s) requests a landing run, landing commits, the
volume rule fires right after the commit, and the deliverer process posts it. Samples start at random points of
the sensor's 30-second cycle, so the percentiles include where in the cycle an event arrives. Printed: each
latency, then p50/p95/max, and the baseline of the same process: the time from the landing run's start to
the webhook, and from the alert's evaluation right after landing's commit to the webhook (what alerts add).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.home import Home  # noqa: E402
from streaming.broker import LocalBroker, free_port  # noqa: E402
from streaming.topics import USAGE_TOPIC, ensure_topics  # noqa: E402
from tests.alert_receivers import http_receiver  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f}s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def landing_starts(home: Home) -> list[float]:
    """Start times of the landing runs, read from the Dagster instance of the home."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name="landing_job"))
        return sorted(r.start_time for r in records if r.start_time)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one alert")
    args = parser.parse_args()
    from kafka import KafkaProducer

    with tempfile.TemporaryDirectory(prefix="tierwise-alert-bench-") as tmp, http_receiver() as receiver:
        home = Home(Path(tmp) / "home").ensure()
        broker = LocalBroker(home, heap="512m")
        status = broker.up()
        bootstrap = status.bootstrap or ""
        ensure_topics(bootstrap)
        (home.root / "alerts.yaml").write_text(
            "channels:\n"
            f"  hook: {{type: webhook, url: '{receiver.url}/hook', secret_env: TIERWISE_BENCH_HMAC}}\n"
            "rules:\n  - {name: volume-5m, kind: volume, threshold: 5M}\n"
        )
        # the venv's bin first on PATH: dagster-dbt runs `dbt` from there, as in an activated venv
        path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        env = dict(os.environ, PATH=path, TIERWISE_HOME=str(home.root), TIERWISE_BENCH_HMAC="bench-secret")
        # dagster dev's code server re-parses the dbt project, whose profile needs the warehouse path
        env["TIERWISE_WAREHOUSE"] = str(home.warehouse)
        env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        env.pop("TIERWISE_ALERTS_CONFIG", None)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        port = free_port()
        log = (home.root / "ui.log").open("wb")
        ui = subprocess.Popen(
            [str(VENV_BIN / "tierwise"), "ui", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
        latencies: list[float] = []
        after_landing: list[float] = []
        delivery: list[float] = []  # the alert's evaluation (right after landing's commit) -> webhook
        try:
            wait_http(f"http://127.0.0.1:{port}/server_info", 300)
            print(f"tierwise ui up on port {port}; {args.samples} samples", flush=True)
            rng = random.Random(7)
            for k in range(args.samples):
                # a random point of the sensor's 30 s cycle (and time for the previous sample's runs to finish)
                time.sleep(rng.uniform(0, 30))
                workload = f"bench-{k:03d}"
                event = {
                    "event_id": f"bench-alert-{k:05d}",
                    "event_time": datetime.now(UTC).isoformat(),
                    "tier": "closed_api",
                    "provider": "openai",
                    "model": "gpt-5.4",
                    "workload": workload,
                    "input_tokens": 6_000_000,
                    "output_tokens": 0,
                }
                sent = time.time()
                producer.send(USAGE_TOPIC, key=workload.encode(), value=json.dumps(event).encode())
                producer.flush()
                deadline = time.monotonic() + args.timeout
                got = None
                while got is None and time.monotonic() < deadline:
                    hits = [r for r in receiver.on("/hook") if json.loads(r.body)["subject"] == workload]
                    got = hits[0].at if hits else None
                    evaluated = (
                        datetime.fromisoformat(json.loads(hits[0].body)["at"].replace("Z", "+00:00")).timestamp()
                        if hits
                        else None
                    )
                    time.sleep(0.05)
                if got is None:
                    print(f"{workload}: no alert within {args.timeout:.0f}s (see {home.root / 'ui.log'})", flush=True)
                    continue
                latencies.append(got - sent)
                assert evaluated is not None
                delivery.append(got - evaluated)
                started = [s for s in landing_starts(home) if sent <= s <= got]
                if started:
                    after_landing.append(got - started[-1])
                print(
                    f"{workload}: {got - sent:6.1f} s emit -> webhook"
                    + (f", {after_landing[-1]:5.1f} s from the landing run's start" if started else "")
                    + f", {delivery[-1]:4.1f} s from the evaluation after landing's commit",
                    flush=True,
                )
        finally:
            producer.close()
            os.killpg(ui.pid, signal.SIGTERM)
            try:
                ui.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(ui.pid, signal.SIGKILL)
                ui.wait()
            log.close()
            broker.down()
        if not latencies:
            print("no alert arrived")
            return 1
        print(
            f"\nemit -> webhook over {len(latencies)} samples: p50 {statistics.median(latencies):.1f} s, "
            f"p95 {percentile(latencies, 0.95):.1f} s, max {max(latencies):.1f} s "
            f"({sum(v < 60 for v in latencies)}/{len(latencies)} under 60 s)"
        )
        print(
            f"evaluation after landing's commit -> webhook: p50 {statistics.median(delivery):.1f} s, "
            f"max {max(delivery):.1f} s (the deliverer process starting and posting)"
        )
        if after_landing:
            print(
                f"landing run start -> webhook (the same samples): p50 {statistics.median(after_landing):.1f} s, "
                f"max {max(after_landing):.1f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

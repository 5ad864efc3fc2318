"""`tierwise ingest scrape` against local HTTP servers serving recorded vLLM, SGLang and DCGM pages, through the real
emitter, broker and landing: the GPU-hours and tokens that land are exactly what the counters say, across a counter
reset, a scrape that times out and one that fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.emitter import TelemetryEmitter
from ingest.scrape_config import ScrapeConfig
from ingest.scraper import Scraper
from landing.consumer import TopicLander
from landing.warehouse import connect

pytestmark = pytest.mark.kafka
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"
HANG = "hang"  # the server never answers in time
DOWN = 503


class MetricsServer:
    """Serves, per path, the next page of a script on each GET (the last one repeats)."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Any]] = {}
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                script = server.scripts[self.path]
                step = script.pop(0) if len(script) > 1 else script[0]
                if step == HANG:
                    server.release.wait(60)
                    return
                if isinstance(step, int):
                    self.send_error(step)
                    return
                body = (PAGES / step).read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def metrics_server() -> Iterator[MetricsServer]:
    server = MetricsServer()
    yield server
    server.close()


def test_gpu_hours_and_tokens_land_exactly_as_the_counters_say(
    metrics_server: MetricsServer, kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    metrics_server.scripts = {
        "/vllm": ["vllm_1.txt", "vllm_2.txt", HANG, "vllm_3.txt", "vllm_4.txt", "vllm_5.txt"],
        "/dcgm": ["dcgm.txt"],
        "/sglang": ["sglang_1.txt", "sglang_2.txt", "sglang_3.txt", DOWN, "sglang_3.txt"],
    }
    config = ScrapeConfig.model_validate(
        {
            "interval_s": 60,
            "timeout_s": 0.5,
            "deployments": [
                {
                    "name": "llama-east",
                    "engine": "vllm",
                    "metrics_url": f"{metrics_server.url}/vllm",
                    "dcgm_url": f"{metrics_server.url}/dcgm",
                    "dcgm_gpus": ["0", "1"],
                    "gpu_type": "H100-80GB",
                    "gpu_count": 2,
                    "hourly_price_usd": "2.49",
                    "model": "meta-llama/Llama-3.3-70B-Instruct",
                    "quantization": "fp8",
                    "usage": {"workload": "batch-summaries", "team": "data"},
                },
                {
                    "name": "qwen-west",
                    "engine": "sglang",
                    "metrics_url": f"{metrics_server.url}/sglang",
                    "gpu_type": "L40S",
                    "gpu_count": 1,
                    "model": "Qwen/Qwen3-32B",
                    "usage": {"workload": "support-rag"},
                    "missed": "skip",
                },
            ],
        }
    )
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    ticks = [start + timedelta(minutes=k) for k in range(6)]
    with TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill") as emitter:
        scraper = Scraper(config, emitter.emit)
        results = [scraper.tick(at) for at in ticks]
        scraper.close()
        assert emitter.flush(timeout=60)

    llama = [r[0] for r in results]
    qwen = [r[1] for r in results]
    assert [r.ok for r in llama] == [True, True, False, True, True, True]
    assert "timed out" in (llama[2].error or "")
    assert [r.ok for r in qwen] == [True, True, True, False, True, True]
    assert "HTTP 503" in (qwen[3].error or "")
    assert [r.resets for r in llama] == [0, 0, 0, 0, 1, 0]  # vllm_4 restarted (a new _created), counters went *up*
    assert [r.resets for r in qwen] == [0, 0, 1, 0, 0, 0]  # sglang_3 restarted: counters below the last scrape
    # The first scrape is a baseline; the missed one carries nothing; the one after it carries the gap.
    assert [r.input_tokens for r in llama] == [None, 30000, None, 60000, 250000, 7000]
    assert [r.output_tokens for r in llama] == [None, 6000, None, 15000, 1000, 1500]
    assert (llama[1].running, llama[1].kv_cache_usage, qwen[1].kv_cache_usage) == (7.0, 0.41, 0.28)

    # Heartbeats tile [T0, T5): the timed-out interval is billed with its utilization unknown (missed: bill), the
    # failed SGLang interval is left out (missed: skip).
    beats = {(r.deployment, r.heartbeat.interval_start): r.heartbeat for rs in results for r in rs if r.heartbeat}
    llama_beats = [beats[("llama-east", t)] for t in ticks[:5]]
    assert [b.utilization for b in llama_beats] == [0.66, None, 0.66, 0.66, 0.66]
    assert [b.interval_end for b in llama_beats] == ticks[1:]
    assert sorted(t for d, t in beats if d == "qwen-west") == [ticks[0], ticks[1], ticks[3], ticks[4]]
    assert scraper.counters.missed == 2 and scraper.counters.heartbeats == 9 and scraper.counters.usage_events == 6

    warehouse = connect(tmp_path / "warehouse.duckdb")
    try:
        assert TopicLander(kafka_bootstrap, warehouse, fresh_topics["gpu"]).land().landed == 9
        assert TopicLander(kafka_bootstrap, warehouse, fresh_topics["usage"]).land().landed == 6
        check_landed(warehouse)
    finally:
        warehouse.close()


def check_landed(warehouse: duckdb.DuckDBPyConnection) -> None:
    gpu = warehouse.execute(
        """select deployment, sum(gpu_count * date_diff('second', interval_start, interval_end)) as gpu_seconds,
                  sum(hourly_price_usd * gpu_count * date_diff('second', interval_start, interval_end)) as usd_seconds,
                  count(*) filter (where utilization is null) as unknown_utilization
           from raw.gpu_usage group by deployment order by deployment"""
    ).fetchall()
    # llama-east: 2 GPUs x 5 minutes, one with its utilization unknown (the timed-out scrape); qwen-west: 1 GPU x 4
    # minutes, no DCGM so no utilization, and no price (dbt prices it from the catalog).
    assert [(d, s, n) for d, s, _usd, n in gpu] == [("llama-east", 600, 1), ("qwen-west", 240, 4)]
    gpu_hours = {d: Decimal(s) / 3600 for d, s, _usd, _n in gpu}
    assert gpu_hours["llama-east"] * 6 == 1 and gpu_hours["qwen-west"] * 15 == 1
    assert gpu[0][2] / 3600 == Decimal("0.415") and gpu[1][2] is None  # 2.49 USD x 1/6 GPU-hour, exactly

    usage = warehouse.execute(
        """select deployment, workload, tier, provider, sum(input_tokens), sum(output_tokens), count(*)
           from raw.usage_events group by all order by deployment"""
    ).fetchall()
    assert usage == [
        ("llama-east", "batch-summaries", "self_hosted", "vllm", 30000 + 60000 + 250000 + 7000, 6000 + 15000 + 1000 + 1500, 4),
        ("qwen-west", "support-rag", "self_hosted", "sglang", 12345 + 4000, 6789 + 900, 2),
    ]
    after_gap = warehouse.execute(
        "select tags['aggregate_from'], tags['aggregate_requests'] from raw.usage_events where input_tokens = 60000"
    ).fetchone()
    assert after_gap == ("2026-03-02T12:01:00+00:00", "90")  # T1..T3: the missed interval's tokens, counted once


def test_a_scraper_that_only_reaches_its_baseline_emits_no_tokens(metrics_server: MetricsServer) -> None:
    metrics_server.scripts = {"/vllm": ["vllm_1.txt"]}
    config = ScrapeConfig.model_validate(
        {
            "deployments": [
                {
                    "name": "d",
                    "engine": "vllm",
                    "metrics_url": f"{metrics_server.url}/vllm",
                    "gpu_type": "L4",
                    "gpu_count": 1,
                    "model": "m",
                    "usage": {"workload": "w"},
                }
            ]
        }
    )
    sent: list[Any] = []
    scraper = Scraper(config, lambda e: sent.append(e) or True)
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    # Same page twice: a heartbeat for the minute, no usage (the counters did not move).
    scraper.tick(at)
    scraper.tick(at + timedelta(minutes=1))
    scraper.close()
    assert [type(e).__name__ for e in sent] == ["GpuUsage"]


def one_vllm(url: str, **extra: Any) -> ScrapeConfig:
    deployment = {
        "name": "llama-east",
        "engine": "vllm",
        "metrics_url": url,
        "gpu_type": "H100-80GB",
        "gpu_count": 2,
        "model": "meta-llama/Llama-3.3-70B-Instruct",
        "usage": {"workload": "batch-summaries"},
        **extra,
    }
    return ScrapeConfig.model_validate({"interval_s": 60, "timeout_s": 0.5, "deployments": [deployment]})


def test_a_restarted_scraper_continues_from_its_saved_state(metrics_server: MetricsServer, tmp_path: Path) -> None:
    metrics_server.scripts = {"/vllm": ["vllm_1.txt", "vllm_2.txt", "vllm_3.txt", "vllm_4.txt"]}
    config = one_vllm(f"{metrics_server.url}/vllm")
    state = tmp_path / "scrape-state.json"
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    sent: list[Any] = []
    first = Scraper(config, lambda e: sent.append(e) or True, state_file=state)
    first.tick(start)
    first.tick(start + timedelta(minutes=1))
    first.close()  # the process stops; it is down for the minute that follows
    second = Scraper(config, lambda e: sent.append(e) or True, state_file=state)
    second.tick(start + timedelta(minutes=3))
    second.tick(start + timedelta(minutes=4))
    second.close()

    beats = [e for e in sent if type(e).__name__ == "GpuUsage"]
    assert [(b.interval_start.minute, b.interval_end.minute, b.utilization) for b in beats] == [
        (0, 1, None),  # no DCGM here: utilization is never known
        (1, 3, None),  # the time the scraper was down: billed (missed: bill), not left at zero
        (3, 4, None),
    ]
    usage = [(e.input_tokens, e.output_tokens) for e in sent if type(e).__name__ == "UsageEvent"]
    assert usage == [(30000, 6000), (60000, 15000), (250000, 1000)]  # no new baseline: nothing lost, nothing twice


def test_a_saved_state_too_old_or_of_another_endpoint_is_not_resumed(metrics_server: MetricsServer, tmp_path: Path) -> None:
    metrics_server.scripts = {"/vllm": ["vllm_1.txt", "vllm_2.txt", "vllm_3.txt"], "/other": ["vllm_3.txt"]}
    state = tmp_path / "scrape-state.json"
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    sent: list[Any] = []
    first = Scraper(one_vllm(f"{metrics_server.url}/vllm"), lambda e: sent.append(e) or True, state_file=state)
    first.tick(start)
    first.tick(start + timedelta(minutes=1))
    first.close()
    sent.clear()
    copy = tmp_path / "copy.json"
    copy.write_bytes(state.read_bytes())
    moved = Scraper(one_vllm(f"{metrics_server.url}/other"), lambda e: sent.append(e) or True, state_file=state)
    moved.tick(start + timedelta(minutes=2))
    moved.close()
    late = Scraper(one_vllm(f"{metrics_server.url}/vllm"), lambda e: sent.append(e) or True, state_file=copy)
    late.tick(start + timedelta(hours=2))  # 120 intervals later: a new baseline, the gap is not billed whole
    late.close()
    assert sent == []

"""`tierwise ingest otlp | scrape` as the processes users run: SIGTERM flushes the receiver, `scrape --once` emits one
interval, a bad config is one line naming the field."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from schemas import parse_gpu, parse_usage
from streaming.broker import free_port
from tests.factories import read_topic, wait_for
from tests.integration.test_scraper import MetricsServer

pytestmark = pytest.mark.kafka


def cli_env(tmp_path: Path, bootstrap: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIERWISE_", "KAFKA_"))}
    return {**env, "TIERWISE_HOME": str(tmp_path / "home"), "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **extra}


def span_doc() -> bytes:
    attributes = {
        "gen_ai.operation.name": {"stringValue": "chat"},
        "gen_ai.provider.name": {"stringValue": "openai"},
        "gen_ai.request.model": {"stringValue": "gpt-5.4"},
        "gen_ai.response.id": {"stringValue": "chatcmpl-cli-1"},
        "gen_ai.usage.input_tokens": {"intValue": "4321"},
        "gen_ai.usage.output_tokens": {"intValue": "87"},
    }
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "chat gpt-5.4",
        "startTimeUnixNano": "1772452800000000000",
        "endTimeUnixNano": "1772452801500000000",
        "attributes": [{"key": k, "value": v} for k, v in attributes.items()],
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout-assistant"}}]}
    return orjson.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]})


def test_otlp_receiver_process_flushes_on_sigterm(kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "tierwise.cli", "ingest", "otlp", "--port", str(port)]
    cmd += ["--topic", fresh_topics["usage"], "--gpu-topic", fresh_topics["gpu"]]
    env = cli_env(tmp_path, kafka_bootstrap, TIERWISE_OTLP_TOKEN="tok-123")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/v1/traces"

        def post() -> int:
            request = urllib.request.Request(
                url,
                data=span_doc(),
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": "Bearer tok-123"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as err:
                return err.code
            except OSError:
                return 0  # not listening yet

        wait_for(lambda: proc.poll() is not None or post() == 200, 60, "the receiver answering")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "bearer token required" in out
    assert "stopped: 1 span(s) received, 1 mapped, 0 ignored, 0 invalid" in out
    (record,) = read_topic(kafka_bootstrap, fresh_topics["usage"], 1)
    event = parse_usage(record.value)
    assert (event.workload, event.input_tokens, event.output_tokens) == ("checkout-assistant", 4321, 87)


def test_scrape_once_emits_one_interval(kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path) -> None:
    server = MetricsServer()
    server.scripts = {"/metrics": ["vllm_1.txt", "vllm_2.txt"]}
    config = tmp_path / "scrape.yaml"
    config.write_text(
        f"""interval_s: 1
timeout_s: 0.5
deployments:
  - name: llama-east
    engine: vllm
    metrics_url: {server.url}/metrics
    gpu_type: H100-80GB
    gpu_count: 2
    model: meta-llama/Llama-3.3-70B-Instruct
    usage: {{workload: batch-summaries}}
"""
    )
    cmd = [sys.executable, "-m", "tierwise.cli", "ingest", "scrape", "--config", str(config), "--once"]
    cmd += ["--topic", fresh_topics["usage"], "--gpu-topic", fresh_topics["gpu"]]
    try:
        done = subprocess.run(cmd, env=cli_env(tmp_path, kafka_bootstrap), capture_output=True, text=True, timeout=120)
    finally:
        server.close()
    assert done.returncode == 0, done.stderr
    assert "llama-east: +30000 in +6000 out" in done.stdout
    assert "stopped: 2 scrape(s), 0 missed, 1 heartbeat(s), 1 usage event(s)" in done.stdout
    (beat,) = read_topic(kafka_bootstrap, fresh_topics["gpu"], 1)
    heartbeat = parse_gpu(beat.value)
    assert (heartbeat.gpu_count, (heartbeat.interval_end - heartbeat.interval_start).total_seconds()) == (2, 1.0)
    (usage,) = read_topic(kafka_bootstrap, fresh_topics["usage"], 1)
    assert (parse_usage(usage.value).input_tokens, parse_usage(usage.value).output_tokens) == (30000, 6000)


def test_a_bad_scrape_config_is_one_line_naming_the_field(tmp_path: Path, kafka_bootstrap: str) -> None:
    config = tmp_path / "scrape.yaml"
    config.write_text(
        "deployments:\n  - {name: a, engine: vllm, metrics_url: 'http://h:1/metrics', gpu_type: L4, gpu_count: 0}\n"
    )
    cmd = [sys.executable, "-m", "tierwise.cli", "ingest", "scrape", "--config", str(config)]
    done = subprocess.run(cmd, env=cli_env(tmp_path, kafka_bootstrap), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"tierwise: error: {config}: deployment a: gpu_count: Input should be greater than or equal to 1"
    )

"""`tierwise ingest otlp | scrape`: long-running ingestors that meet usage where it already flows."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

import click

from core import env
from core.errors import TierwiseError
from core.home import Home
from streaming.broker import resolve_bootstrap
from streaming.topics import GPU_TOPIC, USAGE_TOPIC, dlq_for


def _emitter(topic: str, gpu_topic: str) -> Any:
    """An emitter on this home's Kafka; while Kafka is away events wait in the spill, so a service starts anyway."""
    from ingest.emitter import TelemetryEmitter

    home = Home.from_env().ensure()
    return TelemetryEmitter(resolve_bootstrap(home), topic=topic, gpu_topic=gpu_topic, spill_dir=home.spill)


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.DEBUG if env.debug() else logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not env.debug():
        logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the emitter says what matters in one line


@click.group()
def ingest() -> None:
    """Long-running ingestors: an OTLP/HTTP trace receiver and a Prometheus scraper for self-hosted servers."""


@ingest.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=4318, show_default=True, help="OTLP/HTTP's standard port.")
@click.option("--workload", default=None, help="Workload of spans whose resource has no service.name.")
@click.option("--team", default=None, help="Team of spans that do not say (tierwise.team).")
@click.option("--environment", default=None, help="Environment of spans that do not say (deployment.environment.name).")
@click.option("--topic", default=USAGE_TOPIC, show_default=True)
@click.option("--gpu-topic", default=GPU_TOPIC, show_default=True)
def otlp(host: str, port: int, topic: str, gpu_topic: str, **defaults: Any) -> None:
    """Receive OTLP/HTTP traces on POST /v1/traces; GenAI spans become usage events.

    Point an OpenTelemetry SDK (OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT) or a Collector's otlphttp
    exporter at it. TIERWISE_OTLP_TOKEN, when set, is the bearer token exporters must send. Counters on
    GET /metrics. GenAI spans the contract refuses go to the usage dead-letter topic. Ctrl-C or SIGTERM stops
    it after flushing what it accepted.
    """
    from ingest.otlp_receiver import OtlpReceiver

    _log_to_stderr()
    token = env.otlp_token()
    receiver = OtlpReceiver(
        _emitter(topic, gpu_topic),
        host,
        port,
        token=token,
        dead_letter_topic=dlq_for(topic),
        **{k: v for k, v in defaults.items() if v is not None},
    )
    click.echo(
        f"receiving OTLP/HTTP traces on {receiver.url}/v1/traces (protobuf, JSON, gzip)"
        f"{', bearer token required' if token else ''}; counters on {receiver.url}/metrics"
    )
    # uvicorn raises the signal it stopped on again once the emitter is flushed: that is the normal way out.
    with contextlib.suppress(KeyboardInterrupt):
        receiver.run()
    snap = receiver.counters.snapshot()
    stats = receiver.emitter.stats()
    click.echo(
        f"stopped: {snap['received']} span(s) received, {snap['mapped']} mapped, {snap['ignored']} ignored, "
        f"{snap['invalid']} invalid; {snap['bad_requests']} request(s) refused"
        + (f"; {stats.spill_bytes} bytes wait in {receiver.emitter.spill_dir}" if stats.spill_bytes else "")
    )


@ingest.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path), help="The scrape config (YAML).")
@click.option("--once", is_flag=True, help="Scrape twice, one interval apart, emit that interval and stop (a config check).")
@click.option("--topic", default=USAGE_TOPIC, show_default=True)
@click.option("--gpu-topic", default=GPU_TOPIC, show_default=True)
def scrape(config_path: Path, once: bool, topic: str, gpu_topic: str) -> None:
    """Scrape vLLM / SGLang / DCGM metrics of self-hosted deployments: GPU heartbeats and aggregate usage per interval."""
    from core.settings import project_dir
    from ingest.scrape_config import load_scrape_config, unpriced_gpu_types
    from ingest.scraper import Scraper, TickResult

    config = load_scrape_config(config_path)
    for name, gpu_type in unpriced_gpu_types(config, project_dir() / "seeds" / "gpu_prices.csv"):
        click.echo(
            f"warning: deployment {name}: gpu_type {gpu_type} is not in the gpu_prices catalog and has no hourly_price_usd;"
            " its GPU-hours will land unpriced",
            err=True,
        )
    _log_to_stderr()
    emitter = _emitter(topic, gpu_topic)
    # One state file per config file, so a restart continues where the last run stopped (no new baseline).
    digest = hashlib.sha256(str(config_path.resolve()).encode()).hexdigest()[:12]
    state_file = Home.from_env().root / "scrape" / f"{config_path.stem}-{digest}.json"
    scraper = Scraper(config, emitter.emit, state_file=state_file)
    stop = threading.Event()

    def show(results: list[TickResult]) -> None:
        for r in results:
            if not r.ok:
                click.echo(f"{r.at:%H:%M:%S} {r.deployment}: missed ({r.error})")
                continue
            tokens = "" if r.input_tokens is None else f" +{r.input_tokens} in +{r.output_tokens} out"
            util = "" if r.heartbeat is None or r.heartbeat.utilization is None else f" util {r.heartbeat.utilization:.2f}"
            kv = "" if r.kv_cache_usage is None else f" kv {r.kv_cache_usage:.2f}"
            running = "" if r.running is None else f" running {r.running:g}"
            click.echo(f"{r.at:%H:%M:%S} {r.deployment}:{tokens}{util}{kv}{running}" + (" (counter reset)" if r.resets else ""))
        if once and scraper.counters.scrapes >= 2 * len(config.deployments):
            stop.set()

    names = ", ".join(d.name for d in config.deployments)
    click.echo(f"scraping {len(config.deployments)} deployment(s) every {config.interval_s:g}s: {names}")
    try:
        scraper.run(stop, show)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into one): stop after flushing
        stop.set()
    finally:
        stop.set()
        scraper.close()
        emitter.close(timeout=30)
    c = scraper.counters
    summary = f"{c.scrapes} scrape(s), {c.missed} missed, {c.heartbeats} heartbeat(s), {c.usage_events} usage event(s)"
    click.echo(f"stopped: {summary}")
    if emitter.stats().spill_bytes:
        raise TierwiseError(f"Kafka did not take every event; they wait in {emitter.spill_dir} for the next emitter")


COMMANDS: list[click.Command] = [ingest]

"""Shared fixtures. The session broker is a real single-node KRaft Kafka on a free loopback port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.home import Home
from streaming.broker import LocalBroker, external_bootstrap
from streaming.topics import ensure_topics


def pytest_configure(config: pytest.Config) -> None:
    """dbt's manifest, before any test module imports the Dagster definitions (they read it at import)."""
    from pipelines.defs.dbt.project import prepare_manifest

    prepare_manifest()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of one real broker for the whole session (or KAFKA_BOOTSTRAP_SERVERS)."""
    ext = external_bootstrap()
    if ext:
        yield ext
        return
    home = Home(tmp_path_factory.mktemp("kafka-home")).ensure()
    broker = LocalBroker(home, heap="512m")
    status = broker.up()
    assert status.bootstrap
    try:
        yield status.bootstrap
    finally:
        broker.down()


@pytest.fixture
def topic_prefix() -> str:
    """A unique prefix so tests sharing the session broker never read each other's events."""
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
def fresh_topics(kafka_bootstrap: str, topic_prefix: str) -> dict[str, str]:
    """Per-test usage/gpu/dlq topic names, created on the session broker."""
    names = {
        "usage": f"{topic_prefix}llm.usage.v1",
        "gpu": f"{topic_prefix}llm.gpu.v1",
        "usage_dlq": f"{topic_prefix}llm.usage.v1.dlq",
        "gpu_dlq": f"{topic_prefix}llm.gpu.v1.dlq",
    }
    ensure_topics(kafka_bootstrap, partitions=3, topics=tuple(names.values()))
    return names


@pytest.fixture
def tw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An isolated TIERWISE_HOME for one test."""
    home = Home(tmp_path / "home").ensure()
    monkeypatch.setenv("TIERWISE_HOME", str(home.root))
    # Each test gets its own warehouse.
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(home.warehouse))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    os.environ.pop("TIERWISE_CONFIG", None)
    return home


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault-injection table (tests/integration/test_faults.py), when those tests ran."""
    from tests.exactly_once import FAULT_TABLE

    if FAULT_TABLE:
        terminalreporter.section("fault injection: acknowledged events against the marts")
        terminalreporter.write_line("| scenario | events | lost | duplicated | time to recover |")
        terminalreporter.write_line("|---|---:|---:|---:|---:|")
        for row in FAULT_TABLE:
            terminalreporter.write_line(row.line())

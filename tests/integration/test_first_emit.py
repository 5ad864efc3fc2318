"""A new user's first `tierwise emit`: topics exist after `kafka up`, an event that could not be delivered
is a non-zero exit naming the cause and where it waits, and the next emit delivers it first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from core.home import Home
from streaming.topics import ALL_TOPICS
from tests.factories import read_topic, usage_event
from tierwise.cli import main

pytestmark = pytest.mark.kafka


def test_kafka_up_creates_the_topics_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    home = Home(tmp_path / "home").ensure()
    monkeypatch.setenv("TIERWISE_HOME", str(home.root))
    monkeypatch.setenv("TIERWISE_KAFKA_HEAP", "384m")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    try:
        assert main(["kafka", "up"]) == 0
        out = capfd.readouterr().out
        assert "topics created: " in out
        bootstrap = (home.root / "kafka" / "port").read_text().strip()
        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{bootstrap}")
        try:
            assert set(ALL_TOPICS) <= set(admin.list_topics())
        finally:
            admin.close()
        assert main(["kafka", "up"]) == 0  # idempotent: the second run creates nothing
        assert "topics created" not in capfd.readouterr().out
        assert main(["kafka", "status"]) == 0
    finally:
        assert main(["kafka", "down"]) == 0
    # Scripts can tell a stopped broker from a running one.
    assert main(["kafka", "status"]) == 3


def test_emit_to_a_missing_topic_fails_naming_it_and_the_next_emit_delivers_the_parked_event_first(
    kafka_bootstrap: str, topic_prefix: str, tw_home: Home, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    topic, gpu_topic = f"{topic_prefix}llm.usage.v1", f"{topic_prefix}llm.gpu.v1"
    first, second = usage_event(1, workload="wl-a"), usage_event(2, workload="wl-a")
    args = ["--topic", topic, "--gpu-topic", gpu_topic]

    assert main(["emit", "--json", json.dumps(first), *args]) == 2
    err = capfd.readouterr().err
    assert err.startswith("tierwise: error: ") and len(err.strip().splitlines()) == 1, err
    assert f"topic {topic} does not exist" in err and "tierwise kafka topics" in err, err
    assert first["event_id"] in err and str(tw_home.spill) in err, err

    from streaming.topics import ensure_topics

    ensure_topics(kafka_bootstrap, partitions=1, topics=(topic, gpu_topic))
    assert main(["emit", "--json", json.dumps(second), *args]) == 0
    out = capfd.readouterr().out
    assert "delivered 1 parked event(s) first" in out, out
    landed = [json.loads(m.value)["event_id"] for m in read_topic(kafka_bootstrap, topic, 2)]
    assert landed == [first["event_id"], second["event_id"]]
    assert list(tw_home.spill.glob("seg-*.jsonl")) == []

    # Nothing parked any more: a third emit goes straight out.
    assert main(["emit", "--json", json.dumps(usage_event(3, workload="wl-a")), *args]) == 0
    assert "parked" not in capfd.readouterr().out

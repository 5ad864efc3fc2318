"""A 3-broker KRaft cluster on loopback (replication factor 3, min.insync.replicas 2): the leader of a
partition is SIGKILLed mid-stream and restarted later; nothing acknowledged is lost, landing goes on
while it is down, and the lag recovers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streaming.broker import LOOPBACK, wait_for_metadata
from tests.kafka_nodes import Node, base_props, free_ports, new_cluster_id, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    root = tmp_path_factory.mktemp("cluster")
    ports = free_ports(6)
    clients, controllers = ports[:3], ports[3:]
    voters = ",".join(f"{i + 1}@{LOOPBACK}:{c}" for i, c in enumerate(controllers))
    cluster_id = new_cluster_id()
    nodes = []
    for i in range(3):
        props = base_props(i + 1, root / f"n{i + 1}" / "data", voters)
        props.update(
            {
                "listeners": f"PLAINTEXT://{LOOPBACK}:{clients[i]},CONTROLLER://{LOOPBACK}:{controllers[i]}",
                "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{clients[i]}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name": "PLAINTEXT",
                "default.replication.factor": "3",
                "min.insync.replicas": "2",
                "offsets.topic.replication.factor": "3",
                "transaction.state.log.replication.factor": "3",
                "transaction.state.log.min.isr": "2",
                "share.coordinator.state.topic.replication.factor": "3",
                "share.coordinator.state.topic.min.isr": "2",
            }
        )
        node = Node(i + 1, root / f"n{i + 1}", props)
        node.format(cluster_id)
        nodes.append(node)
    for node in nodes:
        node.start()
    try:
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _bootstrap(nodes: list[Node]) -> str:
    return ",".join(n.props["advertised.listeners"].removeprefix("PLAINTEXT://") for n in nodes)


def _admin(bootstrap: str) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)


def _partitions(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    admin = _admin(bootstrap)
    try:
        (described,) = admin.describe_topics([topic])
        return sorted(described["partitions"], key=lambda p: p["partition_index"])
    finally:
        admin.close()


def test_leader_killed_mid_stream_loses_nothing_acknowledged_and_lag_recovers(
    cluster: list[Node], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kafka.admin import ConfigResource

    from ingest.emitter import TelemetryEmitter
    from landing.consumer import DEFAULT_CONSUMER, TopicLander
    from landing.warehouse import connect
    from streaming.lag import consumer_lag
    from streaming.topics import ensure_topics
    from tests.factories import usage_event

    bootstrap = _bootstrap(cluster)
    wait_for_metadata(bootstrap, timeout_s=120)
    wait_until(lambda: len(_admin(bootstrap).describe_cluster()["brokers"]) == 3, 120, "3 brokers registered")
    monkeypatch.delenv("TIERWISE_REPLICATION_FACTOR", raising=False)
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "home"))
    usage, gpu = "c.llm.usage.v1", "c.llm.gpu.v1"
    ensure_topics(bootstrap, partitions=3, topics=(usage, gpu, f"{usage}.dlq", f"{gpu}.dlq"))
    # Every broker learns the new topic from the controller a moment later: ask until the one answering knows it.
    wait_until(lambda: len(_partitions(bootstrap, usage)) == 3, 60, "the new topic's partitions described")
    parts = _partitions(bootstrap, usage)
    assert [len(p["replica_nodes"]) for p in parts] == [3, 3, 3]  # TIERWISE_REPLICATION_FACTOR defaults to min(3, brokers)
    admin = _admin(bootstrap)
    configs = admin.describe_configs([ConfigResource("TOPIC", usage)])
    admin.close()
    assert configs["topic"][usage]["min.insync.replicas"]["value"] == "2"

    events = [usage_event(i) for i in range(6000)]
    victim: dict[str, Any] = {}
    con = connect(tmp_path / "warehouse.duckdb")

    def stream(emitter: TelemetryEmitter) -> None:
        for n, event in enumerate(events):
            if n == 2000:
                leader = _partitions(bootstrap, usage)[0]["leader_id"]
                victim["node"] = cluster[leader - 1]
                victim["node"].kill()
            if n == 4500:
                victim["node"].start()
            assert emitter.emit(event)
            if n % 50 == 0:
                time.sleep(0.02)

    with TelemetryEmitter(bootstrap, topic=usage, gpu_topic=gpu, spill_dir=tmp_path / "spill") as emitter:
        streaming = threading.Thread(target=stream, args=(emitter,))
        streaming.start()
        wait_until(lambda: "node" in victim, 60, "the leader of partition 0 killed")
        # Landing goes on while the old leader is down (a new leader took partition 0).
        first = TopicLander(bootstrap, con, usage, idle_timeout_s=30).land()
        streaming.join()
        # A tail sent after that landing: lag the next landing must take back to zero.
        tail = [usage_event(i) for i in range(len(events), len(events) + 500)]
        for event in tail:
            assert emitter.emit(event)
        assert emitter.flush(timeout=180)
        stats = emitter.stats()
    events += tail
    assert stats.dropped == 0 and stats.sent + stats.replayed == len(events), stats
    assert first.landed > 0
    lag_before = consumer_lag(bootstrap, DEFAULT_CONSUMER, [usage])[usage]
    assert lag_before > 0
    wait_until(
        lambda: all(len(p["isr_nodes"]) == 3 for p in _partitions(bootstrap, usage)), 120, "the restarted broker back in sync"
    )
    TopicLander(bootstrap, con, usage, idle_timeout_s=30).land()
    assert consumer_lag(bootstrap, DEFAULT_CONSUMER, [usage]) == {usage: 0}
    ids = dict(con.execute("SELECT event_id, count(*) FROM raw.usage_events GROUP BY 1").fetchall())
    con.close()
    assert set(ids) == {e["event_id"] for e in events} and set(ids.values()) == {1}

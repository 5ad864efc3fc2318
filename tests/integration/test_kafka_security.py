"""Every tierwise Kafka client over SASL_SSL (SCRAM-SHA-512) and over TLS alone, against a local broker
configured for both with a throwaway CA and certificate made here with the JDK's keytool.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import TierwiseError
from streaming.broker import LOOPBACK, wait_for_metadata
from tests.kafka_nodes import Node, base_props, free_ports, new_cluster_id, single_node_replication

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

STORE_PASSWORD = "throwaway-store-pw"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
SASL_USER, SASL_PASSWORD = "tierwise", "s3cret-scram-pw"


def keytool(*args: str) -> None:
    done = subprocess.run(["keytool", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def make_certificates(d: Path) -> tuple[Path, Path]:
    """A CA (ca.pem for clients) and the broker's PKCS12 keystore, signed by that CA, for 127.0.0.1."""
    ca, server = d / "ca.p12", d / "server.p12"
    common = ["-storetype", "PKCS12", "-storepass", STORE_PASSWORD]
    rsa = ["-keyalg", "RSA", "-keysize", "2048", "-validity", "2"]
    keytool("-genkeypair", "-alias", "ca", "-dname", "CN=tierwise test CA", *rsa, "-ext", "bc:c", "-keystore", str(ca), *common)
    keytool("-exportcert", "-alias", "ca", "-rfc", "-file", str(d / "ca.pem"), "-keystore", str(ca), *common)
    keytool("-genkeypair", "-alias", "broker", "-dname", "CN=localhost", *rsa, "-keystore", str(server), *common)
    keytool("-certreq", "-alias", "broker", "-file", str(d / "server.csr"), "-keystore", str(server), *common)
    san = ["-ext", f"SAN=ip:{LOOPBACK},dns:localhost"]
    signed = ["-infile", str(d / "server.csr"), "-outfile", str(d / "server.pem"), "-rfc", "-validity", "2", *san]
    keytool("-gencert", "-alias", "ca", *signed, "-keystore", str(ca), *common)
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(d / "ca.pem"), "-keystore", str(server), *common)
    keytool("-importcert", "-alias", "broker", "-file", str(d / "server.pem"), "-keystore", str(server), *common)
    return d / "ca.pem", server


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    d = tmp_path_factory.mktemp("secure-kafka")
    ca_pem, keystore = make_certificates(d)
    sasl, ssl, internal, controller = free_ports(4)
    props = single_node_replication(base_props(1, d / "data", f"1@{LOOPBACK}:{controller}"))
    props.update(
        {
            "listeners": f"SASL_SSL://{LOOPBACK}:{sasl},SSL://{LOOPBACK}:{ssl},INTERNAL://{LOOPBACK}:{internal},"
            f"CONTROLLER://{LOOPBACK}:{controller}",
            "advertised.listeners": f"SASL_SSL://{LOOPBACK}:{sasl},SSL://{LOOPBACK}:{ssl},INTERNAL://{LOOPBACK}:{internal}",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,SSL:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": SCRAM_LOGIN,
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(keystore),
            "ssl.keystore.password": STORE_PASSWORD,
            "ssl.key.password": STORE_PASSWORD,
            "ssl.client.auth": "none",
        }
    )
    node = Node(1, d, props, format_args=["--add-scram", f"SCRAM-SHA-512=[name={SASL_USER},password={SASL_PASSWORD}]"])
    node.format(new_cluster_id())
    node.start()
    try:
        yield {"sasl": f"{LOOPBACK}:{sasl}", "ssl": f"{LOOPBACK}:{ssl}", "ca": str(ca_pem), "log": str(node.log)}
    finally:
        node.stop()


def _env(monkeypatch: pytest.MonkeyPatch, broker: dict[str, str], protocol: str) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("KAFKA_SSL_CAFILE", broker["ca"])
    if protocol == "SASL_SSL":
        monkeypatch.setenv("KAFKA_SASL_USERNAME", SASL_USER)
        monkeypatch.setenv("KAFKA_SASL_PASSWORD", SASL_PASSWORD)


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SSL"])
def test_every_client_works_over_the_secured_listener(
    secure_broker: dict[str, str], protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landing.consumer import TopicLander
    from landing.lake import LakeWorker
    from landing.warehouse import connect
    from streaming.lag import consumer_lag
    from streaming.topics import ensure_topics
    from tests.exactly_once import emit_acknowledged
    from tests.factories import usage_event

    bootstrap = secure_broker["sasl" if protocol == "SASL_SSL" else "ssl"]
    _env(monkeypatch, secure_broker, protocol)
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "home"))
    wait_for_metadata(bootstrap, timeout_s=90)  # the broker probe
    p = f"{protocol.lower()}."
    usage, gpu, dlq = f"{p}llm.usage.v1", f"{p}llm.gpu.v1", f"{p}llm.usage.v1.dlq"
    ensure_topics(bootstrap, partitions=2, topics=(usage, gpu, dlq))  # topic admin
    events = [usage_event(i) for i in range(300)]
    acked = emit_acknowledged(bootstrap, usage, events, tmp_path / "spill", gpu_topic=gpu)  # the emitter

    # A poison record makes landing use its dead-letter producer too.
    from kafka import KafkaProducer

    from core.kafka_security import client_config

    raw = KafkaProducer(**client_config(bootstrap))
    raw.send(usage, value=b'{"event_id": "broken').get(timeout=30)
    raw.close()
    con = connect(tmp_path / "warehouse.duckdb")
    result = TopicLander(bootstrap, con, usage).land()  # landing consumer + DLQ producer
    assert (result.landed, result.rejected) == (len(acked), 1)
    assert len(read_topic_secure(bootstrap, dlq)) == 1
    assert consumer_lag(bootstrap, "tierwise-landing", [usage]) == {usage: 0}  # the lag reader
    stats = LakeWorker(bootstrap, tmp_path / "lake", usage, group=f"{p}lake", batch_size=1000, idle_exit_s=2).run()
    assert stats.rows == len(acked)  # a scale-out worker
    con.close()


def read_topic_secure(bootstrap: str, topic: str) -> list[object]:
    from kafka import KafkaConsumer, TopicPartition

    from core.kafka_security import client_config

    consumer = KafkaConsumer(**client_config(bootstrap), enable_auto_commit=False, consumer_timeout_ms=5000)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    records = list(consumer)
    consumer.close()
    return records


def test_a_wrong_password_is_one_line_that_never_shows_the_secret(
    secure_broker: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, secure_broker, "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "wrong-pw-0xdead")
    with pytest.raises(TierwiseError) as err:
        wait_for_metadata(secure_broker["sasl"], timeout_s=8)
    assert "wrong-pw-0xdead" not in str(err.value) and "\n" not in str(err.value)

    env = {
        "PATH": "/usr/bin:/bin",
        "TIERWISE_HOME": str(tmp_path / "home"),
        "KAFKA_BOOTSTRAP_SERVERS": secure_broker["sasl"],
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SSL_CAFILE": secure_broker["ca"],
        "KAFKA_SASL_USERNAME": SASL_USER,
    }
    done = subprocess.run([sys.executable, "-m", "tierwise.cli", "kafka", "topics"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "tierwise: error: SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD in the environment"
    )

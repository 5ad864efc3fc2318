"""Kafka nodes with a configuration the local broker does not use: a TLS/SASL listener, or three nodes
in one KRaft quorum. Same Maven jars and Java as `tierwise kafka up`; every process is stopped by pid.
"""

from __future__ import annotations

import base64
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from streaming.broker import LOOPBACK, ensure_jars, free_port, java_binary


def free_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


@dataclass
class Node:
    node_id: int
    root: Path
    props: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    format_args: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "server.properties"

    @property
    def log(self) -> Path:
        return self.root / "broker.log"

    def format(self, cluster_id: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))
        cmd = [java_binary(), "-cp", f"{ensure_jars()}/*", "kafka.tools.StorageTool", "format"]
        cmd += [f"--cluster-id={cluster_id}", "-c", str(self.config), "--ignore-formatted", *self.format_args]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> None:
        cmd = [java_binary(), "-Xmx256m", "-Xms256m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        cmd += ["-cp", f"{ensure_jars()}/*", "kafka.Kafka", str(self.config)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            psutil.Process(self.proc.pid).kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def base_props(node_id: int, data: Path, voters: str) -> dict[str, str]:
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(data),
        "num.partitions": "3",
        "offsets.topic.num.partitions": "3",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "message.max.bytes": "4194304",
    }


def single_node_replication(props: dict[str, str]) -> dict[str, str]:
    for key in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
        props[f"{key}.replication.factor"] = "1"
    props["transaction.state.log.min.isr"] = "1"
    props["share.coordinator.state.topic.min.isr"] = "1"
    return props


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except Exception:
            pass
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.5)


__all__ = ["LOOPBACK", "Node", "base_props", "free_ports", "new_cluster_id", "single_node_replication", "wait_until"]

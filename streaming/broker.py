"""A single-node Apache Kafka 4.x broker in KRaft mode on 127.0.0.1, run from Maven Central jars.

The broker's state (data, port, pid, log) lives under ``$TIERWISE_HOME/kafka`` so each home has its
own broker on its own port. When ``KAFKA_BOOTSTRAP_SERVERS`` is set, that cluster is used instead and
nothing is started here.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

from core import env
from core.errors import TierwiseError
from core.home import Home
from core.kafka_security import client_config

DIST_DIR = Path(__file__).resolve().parent / "kafka_dist"
LOOPBACK = "127.0.0.1"
ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"
_NEEDS_JAVA = "the local Kafka broker needs Java 17+ (install a JDK, e.g. openjdk-17-jdk)."


def external_bootstrap() -> str | None:
    return env.bootstrap_servers()


def probe_timeout() -> float:
    """Seconds a command waits for a Kafka that should already run (TIERWISE_KAFKA_TIMEOUT, default 10)."""
    return env.kafka_timeout_s()


def jar_dir() -> Path:
    # Overridable so an installed copy (or CI) can share one cache of jars.
    return env.kafka_lib() or DIST_DIR / "target" / "lib"


def _require(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise TierwiseError(f"`{tool}` was not found on PATH: {why}")
    return path


def java_binary() -> str:
    """The java to run: $JAVA_HOME/bin/java when there is one, else java on PATH."""
    java_home = env.java_home()
    if java_home and (java_home / "bin" / "java").exists():
        return str(java_home / "bin" / "java")
    return _require("java", _NEEDS_JAVA)


def ensure_jars(quiet: bool = True) -> Path:
    """Resolve the broker jars with Maven once; later calls reuse them."""
    lib = jar_dir()
    if lib.is_dir() and any(lib.glob("kafka_2.13-*.jar")):
        return lib
    mvn = _require("mvn", "Maven resolves the Kafka broker jars from Maven Central (install Maven 3.8+).")
    java_binary()  # the same Java the broker will run with (JAVA_HOME first, then PATH)
    cmd = [mvn, "-B", "dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DincludeScope=runtime"]
    if quiet:
        cmd.insert(1, "-q")
    result = subprocess.run(cmd, cwd=DIST_DIR, capture_output=True, text=True)
    if result.returncode != 0 or not any(lib.glob("kafka_2.13-*.jar")):
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise TierwiseError(f"Maven could not resolve the Kafka jars (pom: {DIST_DIR / 'pom.xml'}):\n{tail}")
    return lib


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def wait_for_metadata(bootstrap: str, timeout_s: float) -> None:
    """Return once the cluster answers a metadata request; else raise naming the address."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaConfigurationError, KafkaError

    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
        try:
            admin = KafkaAdminClient(
                **client_config(bootstrap),
                request_timeout_ms=min(remaining_ms, 5000),
                bootstrap_timeout_ms=min(remaining_ms, 5000),
                client_id="tierwise-probe",
            )
            try:
                admin.describe_cluster()
                return
            finally:
                admin.close()
        except KafkaConfigurationError:
            raise  # a bug in how we call the client, not a broker that is away
        except (KafkaError, OSError, ValueError) as exc:
            last = exc
            time.sleep(0.3)
    raise TierwiseError(
        f"Kafka broker not reachable at {bootstrap} (no metadata answer within {timeout_s:.0f}s"
        f"{': ' + type(last).__name__ if last else ''})"
    )


@dataclass
class BrokerStatus:
    running: bool
    bootstrap: str | None
    pid: int | None
    external: bool
    log: Path | None
    data_dir: Path | None

    def describe(self) -> str:
        if self.external:
            return f"using external Kafka at {self.bootstrap} ({ENV_BOOTSTRAP}); no local broker is managed"
        if self.running:
            return f"running: pid {self.pid}, bootstrap {self.bootstrap}, data {self.data_dir}, log {self.log}"
        return f"stopped (data {self.data_dir})"


class LocalBroker:
    """Lifecycle of the local broker of one tierwise home."""

    def __init__(self, home: Home, heap: str | None = None, data_dir: Path | None = None) -> None:
        self.home = home
        self.dir = home.kafka
        self.heap = heap or env.kafka_heap()
        self.data_dir = Path(data_dir or env.kafka_data() or self.dir / "data")

    # files of this broker
    @property
    def pid_file(self) -> Path:
        return self.dir / "broker.pid"

    @property
    def port_file(self) -> Path:
        return self.dir / "port"

    @property
    def log_file(self) -> Path:
        return self.dir / "broker.log"

    @property
    def config_file(self) -> Path:
        return self.dir / "server.properties"

    def stored_port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def bootstrap(self) -> str | None:
        port = self.stored_port()
        return f"{LOOPBACK}:{port}" if port else None

    def pid(self) -> int | None:
        """The pid of our broker if it is alive; a stale pid file (or a reused pid) counts as none."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            cmdline = proc.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        # A recycled pid belongs to some other program: only a java running our config file is ours.
        if str(self.config_file) not in cmdline or proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return pid

    def status(self) -> BrokerStatus:
        ext = external_bootstrap()
        if ext:
            return BrokerStatus(True, ext, None, True, None, None)
        pid = self.pid()
        return BrokerStatus(pid is not None, self.bootstrap(), pid, False, self.log_file, self.data_dir)

    def _choose_port(self, port: int | None) -> int:
        if port:  # explicit port: the user asked for this one
            if port_in_use(port):
                raise TierwiseError(f"port {port} on {LOOPBACK} is taken; choose another with --port or omit it for a free one")
            return port
        stored = self.stored_port()
        if stored and not port_in_use(stored):
            return stored
        return free_port()

    def _write_config(self, port: int, controller_port: int) -> None:
        self.config_file.write_text(
            "\n".join(
                [
                    "# Written by `tierwise kafka up`; regenerated at each start.",
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{LOOPBACK}:{controller_port}",
                    f"listeners=PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
                    f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.data_dir}",
                    "num.partitions=6",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    # Big enough for our batches, small enough that an oversized event is a clear reject.
                    "message.max.bytes=4194304",
                    "",
                ]
            )
        )

    def _format_once(self, lib: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            [
                self._java(),
                "-cp",
                f"{lib}/*",
                "kafka.tools.StorageTool",
                "format",
                # One argument: a generated id may start with "-", which would read as an option.
                f"--cluster-id={cluster_id}",
                "-c",
                str(self.config_file),
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise TierwiseError(f"formatting Kafka storage in {self.data_dir} failed: {result.stdout}{result.stderr}")

    @staticmethod
    def _java() -> str:
        return java_binary()

    def up(self, port: int | None = None, timeout_s: float = 90.0) -> BrokerStatus:
        ext = external_bootstrap()
        if ext:
            wait_for_metadata(ext, timeout_s=probe_timeout())
            return self.status()
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.pid() is not None:
            bootstrap = self.bootstrap()
            assert bootstrap
            wait_for_metadata(bootstrap, timeout_s)
            return self.status()
        java = self._java()
        lib = ensure_jars()
        chosen = self._choose_port(port)
        controller = free_port()
        while controller == chosen:
            controller = free_port()
        self._write_config(chosen, controller)
        self._format_once(lib)
        env = dict(os.environ)
        env.pop("KAFKA_OPTS", None)
        cmd = [
            java,
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={DIST_DIR / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.dir}",
            "-cp",
            f"{lib}/*",
            "kafka.Kafka",
            str(self.config_file),
        ]
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
        self.pid_file.write_text(str(proc.pid))
        self.port_file.write_text(str(chosen))
        bootstrap = f"{LOOPBACK}:{chosen}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise TierwiseError(f"the Kafka broker exited with code {proc.returncode}:\n{self._log_tail()}")
            try:
                wait_for_metadata(bootstrap, timeout_s=2)
                return self.status()
            except TierwiseError:
                continue
        self.down()
        raise TierwiseError(f"the Kafka broker did not answer on {bootstrap} within {timeout_s:.0f}s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 8) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def down(self, timeout_s: float = 30.0) -> bool:
        """Stop our broker by its pid (never by name). Returns whether one was running."""
        if external_bootstrap():
            return False
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        self.pid_file.unlink(missing_ok=True)
        return True


def resolve_bootstrap(home: Home) -> str:
    """The bootstrap servers every command uses: the env var, else this home's local broker."""
    ext = external_bootstrap()
    if ext:
        return ext
    broker = LocalBroker(home)
    bootstrap = broker.bootstrap()
    if bootstrap is None or broker.pid() is None:
        raise TierwiseError(f"no Kafka broker for {home.root}: run `tierwise kafka up`, or set {ENV_BOOTSTRAP}")
    return bootstrap

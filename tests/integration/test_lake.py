"""Scale-out landing: two worker processes in one group, Parquet per offset range, one importer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from kafka import KafkaAdminClient
from kafka.errors import CoordinatorNotAvailableError

from landing.lake import import_lake, next_offset_on_disk
from landing.warehouse import connect
from tests.factories import encode, produce, usage_event

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_two_workers_share_partitions_and_land_each_event_once(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    topic = fresh_topics["usage"]  # 3 partitions
    n = 30_000
    values = [encode(usage_event(i, workload=f"wl-{i % 9}")) for i in range(n)]
    values += [b"not json", encode(usage_event(n + 1, input_tokens=-1))]
    values += [encode(usage_event(i, workload=f"wl-{i % 9}")) for i in range(0, 300)]  # resends
    keys = [f"wl-{i % 9}".encode() for i in range(n)] + [b"wl-0", b"wl-0"] + [f"wl-{i % 9}".encode() for i in range(300)]
    home = tmp_path / "home"
    group = f"g-{topic}"
    env = dict(
        os.environ,
        TIERWISE_HOME=str(home),
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        TIERWISE_WAREHOUSE=str(home / "warehouse.duckdb"),
    )
    cmd = [
        sys.executable,
        "-m",
        "tierwise.cli",
        "worker",
        "--topic",
        topic,
        "--group",
        group,
        "--batch-size",
        "4000",
        "--idle-exit",
        "10",
    ]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    # Produce only once both workers are members of the group, so the group splits the partitions.
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            info = admin.describe_groups([group]).get(group, {})
        except CoordinatorNotAvailableError:  # the group does not exist yet
            info = {}
        if info.get("group_state") == "Stable" and len(info.get("members", [])) == 2:
            break
        time.sleep(0.2)
    admin.close()
    produce(kafka_bootstrap, topic, values, keys=keys)
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    # Both processes took part (the group split the partitions between them).
    wrote = [int(o.split("wrote ")[1].split(" file")[0]) for o in outs]
    assert all(w > 0 for w in wrote), outs
    lake = home / "lake"
    assert sum(next_offset_on_disk(lake, topic, p) or 0 for p in range(3)) == len(values)
    con = connect(home / "warehouse.duckdb")
    try:
        first = import_lake(con, lake, topic)
        assert (first["landed"], first["duplicates"], first["rejected"]) == (n, 300, 2)
        assert import_lake(con, lake, topic)["files"] == 0  # importing twice changes nothing
        total, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM raw.usage_events").fetchone()
        assert (total, distinct) == (n, n)
        reasons = {r[0] for r in con.execute("SELECT error_class FROM raw.rejected_events").fetchall()}
        assert reasons == {"invalid_json", "contract_violation"}
    finally:
        con.close()


def test_restarted_worker_resumes_after_the_last_file(
    kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    from landing.lake import LakeWorker

    topic = fresh_topics["usage"]
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(1000)])
    lake = tmp_path / "lake"
    LakeWorker(kafka_bootstrap, lake, topic, group=f"r-{topic}", batch_size=300, idle_exit_s=3).run()
    produce(kafka_bootstrap, topic, [encode(usage_event(i)) for i in range(1000, 1500)])
    # A new group id: offsets in Kafka are unknown to it, only the files say where to resume.
    stats = LakeWorker(kafka_bootstrap, lake, topic, group=f"r2-{topic}", batch_size=300, idle_exit_s=3).run()
    assert stats.rows == 500
    con = duckdb.connect()
    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(lake / topic / "p*" / "*.parquet")]).fetchone()[0]
    assert rows == 1500

"""A real dagster-webserver and dagster-daemon for one tierwise home, driven over GraphQL as the UI drives them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import pytest

from core.home import Home

VENV_BIN = Path(sys.executable).parent  # the venv running pytest: same dagster, dbt and tierwise
REPO = Path(__file__).resolve().parent.parent
LOCATION = "tierwise"
REPOSITORY = "__repository__"  # the name Dagster gives the repository of a Definitions object
OK_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS"}
FAILED_BACKFILL = {"FAILED", "COMPLETED_FAILED", "CANCELED"}
FINISHED_RUN = {"SUCCESS", "FAILURE", "CANCELED"}

T = TypeVar("T")

WORKSPACE_STATUS = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSET_NODES = "{ assetNodes { assetKey { path } opNames isPartitioned } }"
LAUNCH_BACKFILL = """mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }"""
LAUNCH_RUN = """mutation LaunchRun($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
BACKFILL_STATUS = """query Backfill($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status error { message } } ... on Error { message } } }"""
RUNS = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
  __typename ... on Runs { results { runId jobName status tags { key value } } } ... on Error { message } } }"""
RUN_FAILURES = """query Failures($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run {
  eventConnection { events { __typename ... on ExecutionStepFailureEvent { stepKey error { message } } } } } } }"""
SENSOR = """query Sensor($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { id status } } ... on Error { message } } }"""
STOP_SENSOR = """mutation Stop($id: String!) { stopSensor(id: $id) {
  __typename ... on StopSensorMutationResult { instigationState { status } } ... on Error { message } } }"""
START_SENSOR = """mutation Start($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on Error { message } } }"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workspace_file(home: Home) -> Path:
    """The workspace both processes load: the module `dagster dev -m pipelines.definitions` loads."""
    path = home.root / "workspace.yaml"
    path.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: pipelines.definitions\n"
        f"      working_directory: {REPO}\n"
        f"      location_name: {LOCATION}\n"
    )
    return path


@dataclass
class DagsterUI:
    home: Home
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 240) -> DagsterUI:
        # Create the instance's SQLite storage first: two processes migrating a fresh instance at once can
        # both stamp alembic_version, and the instance then refuses to load.
        with dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"]):
            pass
        workspace = workspace_file(self.home)
        commands = {
            "webserver": [str(VENV_BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port), "-w", str(workspace)],
            "daemon": [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(workspace)],
        }
        for name, cmd in commands.items():
            log = self.home.root / f"{name}.log"
            self.logs[name] = log
            with log.open("wb") as out:
                # A session of its own: the finalizer kills the whole group (code servers, run workers, dbt).
                self.procs[name] = subprocess.Popen(
                    cmd, cwd=self.home.root, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
        self.wait("the webserver to answer", self._answers, timeout_s)
        self.wait("the code location to load", self._location_loaded, timeout_s)
        return self

    def stop(self) -> None:
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            # The group outlives its leader (code servers, run workers, dbt): none of it may stay behind.
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    # --- plumbing -------------------------------------------------------------------------------

    def log_tails(self, lines: int = 80) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {name} log (last {lines} lines) ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n{self.log_tails()}", pytrace=False)

    def wait(self, what: str, check: Callable[[], T | None], timeout_s: float) -> T:
        """Poll `check` until it returns a value; a dead process or the deadline fails with the logs."""
        deadline = time.monotonic() + timeout_s
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    self.fail(f"dagster {name} exited with {proc.returncode} while waiting for {what}")
            value = check()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
            time.sleep(1)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            self.fail(f"GraphQL errors: {json.dumps(payload['errors'], indent=2)}")
        return payload["data"]

    def _answers(self) -> bool | None:
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                return True if response.status == 200 else None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def _location_loaded(self) -> bool | None:
        workspace = self.graphql(WORKSPACE_STATUS)["workspaceOrError"]
        entries = {e["name"]: e for e in workspace.get("locationEntries", [])}
        entry = entries.get(LOCATION)
        if entry is None or entry["loadStatus"] != "LOADED":
            return None
        loaded = entry["locationOrLoadError"]
        if loaded is None or loaded["__typename"] == "PythonError":
            self.fail(f"code location {LOCATION} failed to load: {loaded}")
        return True

    # --- what a user does in the UI --------------------------------------------------------------

    def partitioned_assets_of(self, op_name: str) -> list[list[str]]:
        nodes = self.graphql(ASSET_NODES)["assetNodes"]
        return sorted(n["assetKey"]["path"] for n in nodes if op_name in n["opNames"] and n["isPartitioned"])

    def launch_backfill(self, asset_keys: list[list[str]], first: date, last: date, title: str) -> str:
        """ "Materialize" a partition range of these assets, as the UI's launch dialog sends it."""
        params = {
            "title": title,
            "partitionsByAssets": [
                {"assetKey": {"path": key}, "partitions": {"range": {"start": first.isoformat(), "end": last.isoformat()}}}
                for key in asset_keys
            ],
        }
        result = self.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            self.fail(f"launchPartitionBackfill returned {result}")
        return str(result["backfillId"])

    def launch_job(self, job_name: str) -> str:
        """The job's "Launch run" button, with no config; returns the run id."""
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job_name}
        result = self.graphql(LAUNCH_RUN, {"params": {"selector": selector, "runConfigData": {}}})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            self.fail(f"launchRun {job_name} returned {result}")
        return str(result["run"]["runId"])

    def wait_for_backfill(self, backfill_id: str, timeout_s: float = 600) -> str:
        def finished() -> str | None:
            backfill = self.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            if backfill["__typename"] != "PartitionBackfill":
                self.fail(f"backfill {backfill_id}: {backfill}")
            status = str(backfill["status"])
            if status in FAILED_BACKFILL:
                self.fail(f"backfill {backfill_id} ended {status}: {backfill['error']}\n{self.failures_of_runs(backfill_id)}")
            return status if status in OK_BACKFILL else None

        return self.wait(f"backfill {backfill_id} to complete", finished, timeout_s)

    def runs(self, tags: dict[str, str]) -> list[dict[str, Any]]:
        flt = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        result = self.graphql(RUNS, {"filter": flt})["runsOrError"]
        if result["__typename"] != "Runs":
            self.fail(f"runsOrError returned {result}")
        return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in result["results"]]

    def wait_for_run(self, run_id: str, what: str, timeout_s: float = 600) -> str:
        """The run's final status, once it has one."""

        def finished() -> str | None:
            result = self.graphql(RUNS, {"filter": {"runIds": [run_id]}})["runsOrError"]
            if result["__typename"] != "Runs":
                self.fail(f"runsOrError returned {result}")
            status = [r["status"] for r in result["results"]]
            return status[0] if status and status[0] in FINISHED_RUN else None

        return self.wait(what, finished, timeout_s)

    def wait_for_runs(self, tags: dict[str, str], what: str, timeout_s: float = 600) -> list[dict[str, Any]]:
        """The runs carrying `tags`, once there is at least one and all of them have finished."""

        def finished() -> list[dict[str, Any]] | None:
            runs = self.runs(tags)
            return runs if runs and all(r["status"] in FINISHED_RUN for r in runs) else None

        return self.wait(what, finished, timeout_s)

    def failures_of_runs(self, backfill_id: str) -> str:
        lines = []
        for run in self.runs({"dagster/backfill": backfill_id}):
            lines.append(f"run {run['runId']} {run['status']}")
            events = self.graphql(RUN_FAILURES, {"runId": run["runId"]})["runOrError"].get("eventConnection") or {}
            for event in events.get("events", []):
                if event["__typename"] == "ExecutionStepFailureEvent":
                    lines.append(f"  {event['stepKey']}: {event['error']['message'][-2000:]}")
        return "\n".join(lines)

    def set_sensor(self, name: str, running: bool) -> str:
        """Toggle a sensor like the switch on its page; returns its new status."""
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": name}
        sensor = self.graphql(SENSOR, {"selector": selector})["sensorOrError"]
        if sensor["__typename"] != "Sensor":
            self.fail(f"sensor {name}: {sensor}")
        if running:
            started = self.graphql(START_SENSOR, {"selector": selector})["startSensor"]
            if started["__typename"] != "Sensor":
                self.fail(f"startSensor {name}: {started}")
            return str(started["sensorState"]["status"])
        stopped = self.graphql(STOP_SENSOR, {"id": sensor["sensorState"]["id"]})["stopSensor"]
        if stopped["__typename"] != "StopSensorMutationResult":
            self.fail(f"stopSensor {name}: {stopped}")
        return str(stopped["instigationState"]["status"])


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)

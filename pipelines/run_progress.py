"""A live line on the terminal while `tierwise run` lands and builds: what it is doing, and for a dbt build
how many nodes are done of how many, read from the JSON lines dbt writes to the run's dbt.log as it goes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.dbt_cli import node_label

UNIT_TESTS = re.compile(r"(\d+) unit tests?")


@dataclass
class BuildState:
    """What dbt has said so far: the node count once it knows it, nodes finished, the newest one."""

    total: int | None = None
    done: int = 0
    last: str = ""
    unit_tests: int = 0

    def read(self, line: str) -> bool:
        """Take one dbt.log line; True when it changed what the user sees."""
        try:
            event = json.loads(line)
            name, data = event["info"]["name"], event.get("data", {})
        except (ValueError, KeyError, TypeError):
            return False
        if name == "FoundStats":
            found = UNIT_TESTS.search(str(data.get("stat_line", "")))
            self.unit_tests = int(found.group(1)) if found else 0
            return False
        if name == "ConcurrencyLine":
            # node_count leaves out unit tests, which dbt build runs (and reports) as nodes too
            self.total = int(data.get("node_count", 0)) + self.unit_tests
            return True
        if name == "NodeFinished":
            self.done += 1
            self.last = node_label(str(data.get("node_info", {}).get("unique_id", "")))
            return True
        return False

    def describe(self) -> str:
        if self.total is None:
            return "parsing the project"
        total = max(self.total, self.done)
        return f"{self.done}/{total} nodes" + (f", {self.last}" if self.last else "")


class LogFollower:
    """Reads a growing dbt.log from a thread and hands each new whole line to `on_line`."""

    def __init__(self, path: Path, on_line: Callable[[str], None], interval_s: float = 0.2) -> None:
        self.path, self.on_line, self.interval_s = path, on_line, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tierwise-dbt-log", daemon=True)

    def __enter__(self) -> LogFollower:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        pos, rest = 0, ""
        while True:
            stopping = self._stop.is_set()
            with contextlib.suppress(OSError):
                with self.path.open("r", encoding="utf-8", errors="replace") as fh:
                    fh.seek(pos)
                    chunk = fh.read()
                    pos = fh.tell()
                lines = (rest + chunk).split("\n")
                rest = lines.pop()
                for line in lines:
                    self.on_line(line)
            if stopping:
                return
            self._stop.wait(self.interval_s)


class RunProgress:
    """The live line (a spinner, then a bar of nodes) on stderr; does nothing when disabled (no TTY, --verbose)."""

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled
        self._console = console
        self._bar: Any = None
        self._stream: Any = None

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            console = self._console
            if console is None:
                # Dagster captures a step's output by pointing file descriptors 1 and 2 at its log files
                # while the step runs; a copy of the terminal's descriptor taken now still reaches the user.
                self._stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
                console = Console(file=self._stream)
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self._stream is not None:
            self._stream.close()

    @contextlib.contextmanager
    def landing(self) -> Iterator[None]:
        if self._bar is None:
            yield
            return
        task = self._bar.add_task("landing pending events from Kafka", total=None)
        try:
            yield
        finally:
            self._bar.remove_task(task)

    @contextlib.contextmanager
    def dbt_build(self, title: str, log_path: Path) -> Iterator[BuildState]:
        state = BuildState()
        if self._bar is None:
            yield state
            return
        bar = self._bar
        task = bar.add_task(f"{title}: parsing the project", total=None)

        def on_line(line: str) -> None:
            if state.read(line):
                total = max(state.total or 0, state.done) or None
                bar.update(task, description=f"{title}: {state.describe()}", total=total, completed=state.done)

        try:
            with LogFollower(log_path, on_line):
                yield state
        finally:
            bar.remove_task(task)


@contextlib.contextmanager
def hours_bar(enabled: bool, what: str = "simulating") -> Iterator[Callable[[int, int], None] | None]:
    """A bar of simulated hours done of total on stderr (`tierwise simulate`); None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("hours"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(what, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)

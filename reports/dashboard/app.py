"""The dashboard as a small ASGI app (Starlette): one page, read-only, served on 127.0.0.1.

Each request opens the warehouse read-only for the time it takes to read the page's numbers, then closes
it, so a pipeline run (the single writer) waits at most that long. While a run holds the write lock longer
than a reader waits (a dbt build), the page shows the last numbers it read and says so.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from core.errors import TierwiseError
from reports.dashboard.data import Filters, PageData, collect_page
from reports.dashboard.page import CSP, error_page, render

LAG_EVERY_S = 30.0
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

LagReader = Callable[[], "dict[str, int | None] | None"]


class LagWatcher:
    """Kafka's consumer lag, asked in the background: a broker that does not answer never slows the page."""

    def __init__(self, read: LagReader | None, every_s: float = LAG_EVERY_S) -> None:
        self.read, self.every_s = read, every_s
        self.value: dict[str, int | None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.read is None:
            return
        self._thread = threading.Thread(target=self._run, name="tierwise-dashboard-lag", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.value = self.read() if self.read else None
            except Exception:  # a lag read that fails shows as "not reachable", never as a broken page
                self.value = None
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()


def create_app(warehouse: Path, *, lag: LagReader | None = None, today: Callable[[], date] | None = None) -> Starlette:
    watcher = LagWatcher(lag)
    last: dict[str, tuple[PageData, datetime]] = {}  # query -> the last page read, for when a writer holds the lock
    clock = today or (lambda: datetime.now(UTC).date())

    async def index(request: Request) -> HTMLResponse:
        try:
            filters = Filters.parse(request.query_params, clock())
        except TierwiseError as exc:
            return HTMLResponse(error_page(str(exc)), status_code=400, headers=HEADERS)
        key = str(request.query_params)
        try:
            data = await run_in_threadpool(collect_page, warehouse, filters, clock())
        except TierwiseError as exc:
            if "locked" in str(exc) and key in last:
                data, at = last[key]
                note = f"a pipeline run is writing the warehouse: these numbers were read at {at:%H:%M:%S} UTC"
                return HTMLResponse(render(data, watcher.value, note), headers=HEADERS)
            return HTMLResponse(error_page(str(exc)), status_code=503, headers=HEADERS)
        last[key] = (data, datetime.now(UTC))
        if len(last) > 64:
            last.pop(next(iter(last)))
        return HTMLResponse(render(data, watcher.value), headers=HEADERS)

    async def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher.start()
        yield
        watcher.stop()

    return Starlette(routes=[Route("/", index), Route("/healthz", health)], lifespan=lifespan)

"""A LiteLLM callback that sends each call's usage to tierwise (needs the ``litellm`` extra: ``pip install tierwise[litellm]``).

SDK::

    import litellm
    from ingest.litellm_callback import TierwiseCallback
    litellm.callbacks = [TierwiseCallback()]

Proxy (``config.yaml``)::

    litellm_settings:
      callbacks: ingest.litellm_callback.tierwise_callback

LiteLLM hands every finished call (success or failure) its ``StandardLoggingPayload``; the callback maps it
with the LiteLLM adapter (``ingest.adapters.litellm``), which reads usage and attribution and never the messages,
and puts the event on the emitter's in-memory queue: no network call or disk write on LiteLLM's request path, and
no exception ever reaches LiteLLM (a payload that cannot be mapped is counted and logged). The emitter spills to
``$TIERWISE_HOME/spill`` while Kafka is away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from ingest.adapters.litellm import from_litellm_payload
from schemas import ContractError

log = logging.getLogger("tierwise.litellm")


class TierwiseCallback(CustomLogger):  # type: ignore[misc]
    """Usage events from LiteLLM's standard logging payload.

    ``emit`` defaults to a :class:`~ingest.emitter.TelemetryEmitter` for this environment's Kafka (created on the
    first call, so importing the proxy config does not connect); attribution keywords (``workload``, ``team``,
    ...) override what the payload says, as with the adapter. A call whose payload names no workload (no
    ``tierwise_workload`` in ``spend_logs_metadata``, no virtual key alias) is attributed to ``default_workload``
    rather than lost, so its cost still shows, under a name that says it was not attributed.
    """

    def __init__(
        self, emit: Callable[[Any], bool] | None = None, *, default_workload: str | None = "unattributed", **attribution: Any
    ) -> None:
        super().__init__()
        self._emit = emit
        self._attribution = attribution
        self._default_workload = default_workload
        self._lock = threading.Lock()
        self._seen: set[str] = set()  # LiteLLM may call both the sync and the async hook for one call
        self.emitted = 0
        self.unmapped = 0

    def _emitter(self) -> Callable[[Any], bool]:
        with self._lock:
            if self._emit is None:
                from ingest.emitter import TelemetryEmitter

                self._emit = TelemetryEmitter(client_id="tierwise-litellm").emit
            return self._emit

    def _handle(self, kwargs: Mapping[str, Any]) -> None:
        try:
            payload = kwargs.get("standard_logging_object")
            if not isinstance(payload, Mapping):
                raise ValueError("no standard_logging_object in LiteLLM's callback kwargs")
            call_id = str(payload.get("id") or "")
            with self._lock:
                if call_id and call_id in self._seen:
                    return
                if call_id:
                    self._seen.add(call_id)
                    if len(self._seen) > 100_000:
                        self._seen.clear()  # a bound, not a guarantee: landing drops duplicates by event_id anyway
            try:
                event = from_litellm_payload(payload, **self._attribution)
            except ContractError as exc:
                if exc.field != "workload" or not self._default_workload:
                    raise
                event = from_litellm_payload(payload, **{**self._attribution, "workload": self._default_workload})
            if self._emitter()(event):
                with self._lock:
                    self.emitted += 1
        except Exception as exc:  # never break the caller's LLM call over its telemetry
            with self._lock:
                self.unmapped += 1
                n = self.unmapped
            if n <= 10 or n % 1000 == 0:
                log.warning("LiteLLM call not recorded (%d so far): %s: %s", n, type(exc).__name__, exc)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._handle(kwargs)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._handle(kwargs)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._handle(kwargs)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._handle(kwargs)


# What the proxy's `callbacks: ingest.litellm_callback.tierwise_callback` names: one instance per proxy process.
tierwise_callback = TierwiseCallback()

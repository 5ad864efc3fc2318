"""The LiteLLM callback inside LiteLLM itself: `litellm.completion` / `acompletion` with `mock_response` (no network)
build the real StandardLoggingPayload, the callback maps it and the emitter sends it to the real broker."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.emitter import TelemetryEmitter
from schemas import parse_usage
from tests.factories import read_topic, wait_for

MESSAGES = [{"role": "user", "content": "a prompt tierwise must never store"}]


@pytest.fixture
def litellm() -> Iterator[Any]:
    """LiteLLM (the `litellm` extra, in the dev extra), imported only by these tests: it takes seconds to import."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of LiteLLM's price map at import
    import litellm

    saved = list(litellm.callbacks)
    yield litellm
    litellm.callbacks = saved


@pytest.mark.kafka
def test_sync_async_and_failed_calls_land_with_litellms_token_counts(
    litellm: Any, kafka_bootstrap: str, fresh_topics: dict[str, str], tmp_path: Path
) -> None:
    from ingest.litellm_callback import TierwiseCallback

    emitter = TelemetryEmitter(kafka_bootstrap, fresh_topics["usage"], fresh_topics["gpu"], tmp_path / "spill")
    callback = TierwiseCallback(emitter.emit, team="search")
    litellm.callbacks = [callback]

    ok = litellm.completion(
        model="gpt-4o",
        messages=MESSAGES,
        mock_response="an answer tierwise must never store",
        metadata={"spend_logs_metadata": {"tierwise_workload": "faq-bot"}},
    )

    async def self_hosted() -> Any:
        response = await litellm.acompletion(
            model="openai/meta-llama/Llama-3.3-70B-Instruct",
            api_base="http://10.0.0.5:8000/v1",
            messages=MESSAGES,
            mock_response="hello",
            metadata={"spend_logs_metadata": {"tierwise_workload": "rag"}},
        )
        # LiteLLM logs async calls in a task of this loop: keep it running until the callback has run.
        deadline = time.monotonic() + 30
        while callback.emitted < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return response

    hosted = asyncio.run(self_hosted())
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(
            model="gpt-4o",
            messages=MESSAGES,
            mock_response=litellm.RateLimitError(message="slow down", llm_provider="openai", model="gpt-4o"),
        )
    wait_for(lambda: callback.emitted == 3, 30, "three calls recorded")
    emitter.close(timeout=60)
    assert (callback.emitted, callback.unmapped) == (3, 0)

    records = read_topic(kafka_bootstrap, fresh_topics["usage"], 3)
    assert len(records) == 3 and not any(b"never store" in m.value for m in records)
    events = {e.workload: e for e in (parse_usage(m.value) for m in records)}
    faq = events["faq-bot"]
    assert (faq.input_tokens, faq.output_tokens) == (ok.usage.prompt_tokens, ok.usage.completion_tokens)
    assert (faq.tier.value, faq.provider, faq.model, faq.team, faq.status) == ("closed_api", "openai", "gpt-4o", "search", "ok")
    rag = events["rag"]
    assert (rag.input_tokens, rag.output_tokens) == (hosted.usage.prompt_tokens, hosted.usage.completion_tokens)
    assert (rag.tier.value, rag.provider, rag.deployment) == ("self_hosted", "openai_compatible", "10.0.0.5:8000")
    failed = events["unattributed"]  # no workload in the payload: kept, under a name that says so
    assert (failed.status, failed.error_type, failed.input_tokens, failed.output_tokens) == ("error", "RateLimitError", 0, 0)


def test_a_payload_that_cannot_be_mapped_never_reaches_litellm(litellm: Any) -> None:
    from ingest.litellm_callback import TierwiseCallback

    sent: list[Any] = []
    callback = TierwiseCallback(lambda e: sent.append(e) or True, default_workload=None)
    litellm.callbacks = [callback]
    # No workload anywhere and no default: the call still succeeds, the callback counts what it could not record.
    response = litellm.completion(model="gpt-4o", messages=MESSAGES, mock_response="fine")
    wait_for(lambda: callback.unmapped == 1, 30, "the unmapped call counted")
    assert response.choices[0].message.content == "fine"
    assert sent == [] and callback.emitted == 0
    callback.log_success_event({"standard_logging_object": None}, None, None, None)  # not even a payload
    assert callback.unmapped == 2


def test_the_proxy_config_line_resolves_to_the_callback_instance(litellm: Any, tmp_path: Path) -> None:
    from litellm.proxy.types_utils.utils import get_instance_fn

    from ingest.litellm_callback import TierwiseCallback

    config = tmp_path / "config.yaml"
    config.write_text("litellm_settings:\n  callbacks: ingest.litellm_callback.tierwise_callback\n")
    instance = get_instance_fn("ingest.litellm_callback.tierwise_callback", config_file_path=str(config))
    assert isinstance(instance, TierwiseCallback)
    assert isinstance(instance, litellm.integrations.custom_logger.CustomLogger)

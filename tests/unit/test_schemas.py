"""The UsageEvent and GpuUsage contracts: what is accepted, what is rejected and how it is named."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from landing.warehouse import GPU_COLUMNS, USAGE_COLUMNS
from schemas import ContractError, GpuUsage, Tier, UsageEvent, parse_gpu, parse_usage

LANDING_COLUMNS = {"kafka_topic", "kafka_partition", "kafka_offset", "landed_at"}


def usage(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "chatcmpl-abc123",
        "event_time": "2025-06-01T23:30:00-02:00",
        "tier": "closed_api",
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "workload": "support-bot",
        "input_tokens": 1117,
        "output_tokens": 46,
    }
    event.update(overrides)
    return event


def gpu(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "vllm-a:2025-06-01T12:00:00Z",
        "interval_start": "2025-06-01T12:00:00Z",
        "interval_end": "2025-06-01T12:01:00Z",
        "deployment": "vllm-a",
        "gpu_type": "H100-80GB",
        "gpu_count": 8,
    }
    event.update(overrides)
    return event


def reject(raw: Any, parse: Any = parse_usage) -> ContractError:
    with pytest.raises(ContractError) as info:
        parse(raw)
    return info.value


# --- UsageEvent: accepted -------------------------------------------------------------------------


def test_minimal_event_gets_documented_defaults() -> None:
    event = parse_usage(json.dumps(usage()).encode())
    assert event.tier is Tier.CLOSED_API
    assert (event.cached_input_tokens, event.cache_creation_input_tokens, event.reasoning_tokens) == (0, 0, 0)
    assert (event.environment, event.operation, event.status, event.schema_version) == ("prod", "chat", "ok", "1")
    assert (event.batch, event.shadow, event.tags, event.team) == (False, False, None, None)
    assert event.content_fields_dropped == 0


def test_bytes_text_and_dict_inputs_give_equal_events() -> None:
    raw = usage(tags={"region": "eu"}, duration_ms=812.5)
    assert parse_usage(json.dumps(raw).encode()) == parse_usage(json.dumps(raw)) == parse_usage(raw)


def test_unknown_fields_are_ignored_and_not_kept() -> None:
    event = parse_usage(usage(future_field={"nested": 1}, sdk_version="9.9"))
    dumped = event.model_dump()
    assert "future_field" not in dumped and "sdk_version" not in dumped
    assert event.content_fields_dropped == 0  # unknown is not content


def test_cache_and_reasoning_are_parts_of_input_and_output() -> None:
    event = parse_usage(
        usage(input_tokens=100, cached_input_tokens=60, cache_creation_input_tokens=40, output_tokens=50, reasoning_tokens=50)
    )
    assert (event.cached_input_tokens, event.cache_creation_input_tokens, event.reasoning_tokens) == (60, 40, 50)


def test_minor_schema_version_is_accepted() -> None:
    assert parse_usage(usage(schema_version="1.3")).schema_version == "1.3"


def test_event_is_immutable() -> None:
    event = parse_usage(usage())
    with pytest.raises(ValidationError):
        event.input_tokens = 5  # type: ignore[misc]


# --- UsageEvent: rejected, with field and reason ----------------------------------------------------


def test_negative_tokens_error_names_field_and_value() -> None:
    err = reject(json.dumps(usage(output_tokens=-3)))
    assert (err.field, err.reason) == ("output_tokens", "must be >= 0 (got -3)")
    assert str(err) == "output_tokens: must be >= 0 (got -3)"


@pytest.mark.parametrize("value", ["12", 12.0, True])
def test_token_counts_are_strict_integers(value: Any) -> None:
    err = reject(json.dumps(usage(input_tokens=value)))
    assert err.field == "input_tokens"
    assert err.reason.startswith("must be an integer")


@pytest.mark.parametrize(
    "field", ["event_id", "event_time", "tier", "provider", "model", "workload", "input_tokens", "output_tokens"]
)
def test_required_fields(field: str) -> None:
    raw = usage()
    del raw[field]
    err = reject(raw)
    assert (err.field, err.reason) == (field, "is required")


def test_empty_event_id_is_rejected() -> None:
    err = reject(usage(event_id=""))
    assert (err.field, err.reason) == ("event_id", "must not be empty")


def test_naive_event_time_is_rejected() -> None:
    err = reject(json.dumps(usage(event_time="2025-06-01T12:00:00")))
    assert err.field == "event_time"
    assert "UTC offset" in err.reason and "which has none" in err.reason


def test_naive_python_datetime_is_rejected() -> None:
    err = reject(usage(event_time=datetime(2025, 6, 1, 12, 0)))
    assert err.field == "event_time"


@pytest.mark.parametrize("value", [1748779200, "1748779200", "yesterday"])
def test_event_time_must_be_rfc3339_text(value: Any) -> None:
    err = reject(json.dumps(usage(event_time=value)))
    assert err.field == "event_time"
    assert err.reason.startswith("must be an RFC 3339 timestamp with a UTC offset")


def test_unknown_tier_lists_the_allowed_ones() -> None:
    err = reject(usage(tier="on_prem"))
    assert err.field == "tier"
    assert "'closed_api'" in err.reason and "'self_hosted'" in err.reason and "(got 'on_prem')" in err.reason


def test_cached_tokens_cannot_exceed_input() -> None:
    err = reject(usage(input_tokens=100, cached_input_tokens=101))
    assert err.field == "cached_input_tokens"
    assert "(got 101 > 100)" in err.reason


def test_cache_reads_plus_writes_cannot_exceed_input() -> None:
    err = reject(usage(input_tokens=100, cached_input_tokens=60, cache_creation_input_tokens=41))
    assert err.field == "cache_creation_input_tokens"
    assert "(got 60 + 41 > 100)" in err.reason


def test_reasoning_cannot_exceed_output() -> None:
    err = reject(usage(output_tokens=10, reasoning_tokens=11))
    assert err.field == "reasoning_tokens"


def test_self_hosted_requires_deployment() -> None:
    err = reject(usage(tier="self_hosted", provider="vllm"))
    assert (err.field, err.reason) == ("deployment", "is required when tier is self_hosted")
    assert parse_usage(usage(tier="self_hosted", provider="vllm", deployment="vllm-a")).deployment == "vllm-a"


@pytest.mark.parametrize(
    ("field", "value"), [("eval_score", 1.5), ("eval_score", -0.1), ("duration_ms", -1.0), ("ttft_ms", -0.5)]
)
def test_bounded_numbers(field: str, value: float) -> None:
    assert reject(usage(**{field: value})).field == field


def test_status_is_ok_or_error() -> None:
    err = reject(usage(status="failed"))
    assert err.field == "status" and "(got 'failed')" in err.reason


def test_batch_flag_is_a_real_boolean() -> None:
    assert reject(json.dumps(usage(batch="true"))).field == "batch"


def test_unknown_major_schema_version_is_rejected() -> None:
    assert reject(usage(schema_version="2")).field == "schema_version"


def test_long_label_is_rejected_without_echoing_it() -> None:
    err = reject(usage(workload="x" * 5000))
    assert err.field == "workload"
    assert err.reason == "must be at most 256 characters (got 5000)"


def test_tag_values_must_be_strings() -> None:
    assert reject(json.dumps(usage(tags={"region": 3}))).field == "tags.region"


def test_invalid_json_and_non_objects() -> None:
    assert reject(b'{"event_id": ').field == "<json>"
    assert reject(b"[1, 2]").field == "<root>"
    assert reject("null").field == "<root>"
    err = reject(42)  # type: ignore[arg-type]
    assert (err.field, err.reason) == ("<root>", "must be a JSON object (got 42)")


def test_several_errors_are_all_kept_and_str_stays_one_line() -> None:
    err = reject(usage(input_tokens=-1, output_tokens=-2, tier="x"))
    fields = [field for field, _ in err.errors]
    assert {"input_tokens", "output_tokens", "tier"} <= set(fields)
    assert "\n" not in str(err) and str(err).endswith(f"(and {len(err.errors) - 1} more)")


def test_contract_error_survives_pickling() -> None:
    err = reject(usage(output_tokens=-3))
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.field, copy.reason, str(copy)) == (err.field, err.reason, str(err))


# --- UsageEvent.to_row ------------------------------------------------------------------------------


def test_usage_row_has_exactly_the_warehouse_columns() -> None:
    row = parse_usage(usage()).to_row()
    assert set(row) == set(USAGE_COLUMNS) - LANDING_COLUMNS


def test_usage_row_times_are_naive_utc_and_partitioned_by_utc_day() -> None:
    # 23:30 at -02:00 is 01:30 the next day in UTC: the partition must follow UTC.
    row = parse_usage(usage()).to_row()
    assert row["event_time"] == datetime(2025, 6, 2, 1, 30)
    assert row["event_time"].tzinfo is None
    assert row["event_date"] == date(2025, 6, 2)


def test_usage_row_values() -> None:
    event = parse_usage(usage(tier="self_hosted", provider="vllm", deployment="vllm-a", tags={"k": "v"}, prompt="leaked"))
    row = event.to_row()
    assert row["tier"] == "self_hosted" and type(row["tier"]) is str
    assert row["tags"] == {"k": "v"}
    assert row["content_fields_dropped"] == 1
    assert parse_usage(usage()).to_row()["tags"] is None


# --- GpuUsage ---------------------------------------------------------------------------------------


def test_gpu_event_round_trips_price_as_decimal_text() -> None:
    event = parse_gpu(
        json.dumps(
            gpu(
                hourly_price_usd="2.49",
                utilization=0.73,
                engine="vllm",
                quantization="fp8",
                model="meta-llama/Llama-3.1-70B-Instruct",
            )
        )
    )
    assert event.hourly_price_usd == Decimal("2.49")
    assert json.loads(event.model_dump_json())["hourly_price_usd"] == "2.49"


def _gpu_json_with_price(literal: str) -> bytes:
    """A heartbeat whose hourly_price_usd is written as `literal` (a JSON number, not a string)."""
    return (json.dumps(gpu())[:-1] + f', "hourly_price_usd": {literal}}}').encode()


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2.0", "2.0"),
        ("2.49", "2.49"),
        ("0.1", "0.1"),
        # 21 significant digits: a float keeps 17, so only the literal text gives these cents back
        ("123456789.123456789012", "123456789.123456789012"),
        ("0.000000000001", "0.000000000001"),
        ("2.5e0", "2.5"),
        ("1.100000000000000", "1.1"),  # trailing zeros are exact
        ("3", "3"),
    ],
)
def test_gpu_price_as_a_json_number_is_read_from_its_literal_text(literal: str, expected: str) -> None:
    assert parse_gpu(_gpu_json_with_price(literal)).hourly_price_usd == Decimal(expected)


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("-1.5", "cannot be negative"),
        ("-0.000000000001", "cannot be negative"),
        ("NaN", "NaN and infinity are not prices"),
        ("Infinity", "NaN and infinity are not prices"),
        ("-Infinity", "NaN and infinity are not prices"),
        ("1e-13", "more than 12 decimals"),
        ("2.4900000000001", "more than 12 decimals"),
        ("1e400", "at most 26 digits before the point"),
        ("true", "non-negative decimal"),
    ],
)
def test_gpu_price_json_numbers_that_are_not_prices_are_rejected(literal: str, reason: str) -> None:
    err = reject(_gpu_json_with_price(literal), parse_gpu)
    assert err.field == "hourly_price_usd"
    assert reason in err.reason


def test_gpu_price_from_a_python_float_is_its_shortest_text() -> None:
    # What json.dumps would send for the float, so code and wire agree.
    assert parse_gpu(gpu(hourly_price_usd=2.49)).hourly_price_usd == Decimal("2.49")
    assert reject(gpu(hourly_price_usd=0.1 + 0.2), parse_gpu).field == "hourly_price_usd"  # 0.30000000000000004


def test_gpu_price_accepts_integer_and_decimal() -> None:
    assert parse_gpu(gpu(hourly_price_usd=3)).hourly_price_usd == Decimal(3)
    assert parse_gpu(gpu(hourly_price_usd=Decimal("0.85"))).hourly_price_usd == Decimal("0.85")


def test_gpu_interval_must_move_forward() -> None:
    err = reject(gpu(interval_end="2025-06-01T12:00:00Z"), parse_gpu)
    assert err.field == "interval_end" and err.reason.startswith("must be after interval_start")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gpu_count", 0),
        ("utilization", 1.2),
        ("engine", "tgi"),
        ("quantization", "fp4"),
        ("interval_start", "2025-06-01T12:00:00"),
    ],
)
def test_gpu_field_rules(field: str, value: Any) -> None:
    assert reject(gpu(**{field: value}), parse_gpu).field == field


def test_gpu_row_has_exactly_the_warehouse_columns() -> None:
    start = datetime(2025, 6, 1, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    event = GpuUsage.model_validate(
        gpu(interval_start=start, interval_end=start + timedelta(minutes=1), hourly_price_usd="2.49")
    )
    row = event.to_row()
    assert set(row) == set(GPU_COLUMNS) - LANDING_COLUMNS
    assert row["interval_start"] == datetime(2025, 6, 2, 4, 59)
    assert row["event_date"] == date(2025, 6, 2)
    assert row["hourly_price_usd"] == Decimal("2.49")


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ValidationError):
        UsageEvent(**usage(output_tokens=-1))
    event = UsageEvent(**usage(event_time=datetime(2025, 6, 1, tzinfo=UTC)))
    assert event.to_row()["event_date"] == date(2025, 6, 1)


def test_events_from_before_service_tiers_stay_valid_and_new_fields_default() -> None:
    event = parse_usage(json.dumps(usage(cache_creation_input_tokens=100)))
    assert (event.service_tier, event.cache_creation_1h_input_tokens) == (None, 0)
    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas/jsonschema/usage_event.v1.json").read_text())
    assert "service_tier" not in schema["required"] and "cache_creation_1h_input_tokens" not in schema["required"]
    assert schema["properties"]["cache_creation_1h_input_tokens"]["default"] == 0
    # every field an event of before could carry is still a property, with the same type
    old = usage(cache_creation_input_tokens=100, batch=True, tags={"app": "x"})
    assert set(old) <= set(schema["properties"]) and set(schema["required"]) <= set(old)


def test_one_hour_cache_writes_are_part_of_the_cache_writes() -> None:
    ok = parse_usage(json.dumps(usage(input_tokens=1000, cache_creation_input_tokens=300, cache_creation_1h_input_tokens=300)))
    assert ok.cache_creation_1h_input_tokens == 300
    err = reject(usage(input_tokens=1000, cache_creation_input_tokens=300, cache_creation_1h_input_tokens=301))
    assert err.field == "cache_creation_1h_input_tokens"
    assert "cache_creation_input_tokens" in err.reason
    assert parse_usage(json.dumps(usage(service_tier="priority"))).service_tier == "priority"
    assert reject(usage(service_tier="")).field == "service_tier"

"""LiteLLM price import: which entries become prices, how keys map to (provider, model), exactness."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from core.errors import TierwiseError
from core.home import Home
from landing import prices
from tierwise.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "litellm_prices_sample.json"


@pytest.fixture
def home(tw_home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """tw_home with TIERWISE_WAREHOUSE pointing into it (another module may have set it process-wide)."""
    monkeypatch.setenv("TIERWISE_WAREHOUSE", str(tw_home.warehouse))
    return tw_home


def by_id(result: prices.ParseResult) -> dict[tuple[str, str], prices.ImportedPrice]:
    return {(p.provider, p.model): p for p in result.prices}


def test_fixture_counts_every_skip_by_reason() -> None:
    result = prices.load_litellm_file(FIXTURE)
    assert len(result.prices) == 15
    assert dict(result.skipped) == {
        "sample_spec": 1,
        "not_chat": 3,  # image_generation, audio_transcription, rerank
        "no_mode": 1,
        "no_provider": 1,
        "no_token_price": 1,  # a completion model priced per second
        "bad_price": 3,  # negative, finer than 1e-12, the text "free"
        "duplicate": 1,  # openai/gpt-5.4 after gpt-5.4
    }
    assert result.skipped_total == 11
    # every key of the file is either imported or counted
    assert len(result.prices) + result.skipped_total == len(json.loads(FIXTURE.read_text()))


def test_only_token_priced_modes_are_imported() -> None:
    modes = {p.mode for p in prices.load_litellm_file(FIXTURE).prices}
    assert modes == {"chat", "completion", "responses", "embedding"}


def test_embedding_models_are_priced_by_input_tokens() -> None:
    embedding = by_id(prices.load_litellm_file(FIXTURE))[("openai", "text-embedding-3-large")]
    assert embedding.prices["input_cost_per_token"] == Decimal("1.3e-07")
    assert embedding.prices["output_cost_per_token"] == Decimal(0)
    # an embedding entry without any output price still imports (no output tokens to charge)
    parsed = prices.parse_entry("e", {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": "2e-8"})
    assert isinstance(parsed, prices.ImportedPrice) and parsed.prices["output_cost_per_token"] == Decimal(0)
    # a chat entry without an output price is still not a token price
    assert prices.parse_entry("c", {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2e-8"}) == (
        "no_token_price"
    )


def test_batch_cache_tier_one_hour_and_long_context_rates_are_imported() -> None:
    # The shape LiteLLM gives Anthropic's and OpenAI's models (values as published per million tokens / 1e6).
    entry = {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 3e-07,
        "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "input_cost_per_token_batches": 1.5e-06,
        "output_cost_per_token_batches": 7.5e-06,
        "cache_read_input_token_cost_batches": 1.5e-07,
        "cache_creation_input_token_cost_batches": 1.875e-06,
        "input_cost_per_token_priority": 6e-06,
        "output_cost_per_token_priority": 3e-05,
        "cache_read_input_token_cost_priority": 6e-07,
        "input_cost_per_token_flex": 1.5e-06,
        "output_cost_per_token_flex": 7.5e-06,
        "cache_read_input_token_cost_flex": 1.5e-07,
        "input_cost_per_token_above_200k_tokens": 6e-06,
        "output_cost_per_token_above_200k_tokens": 2.25e-05,
        "cache_read_input_token_cost_above_200k_tokens": 6e-07,
        "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
        "input_cost_per_token_above_200k_tokens_priority": 1.2e-05,  # a tier variant of a long rate: not carried
    }
    parsed = prices.parse_litellm({"claude-x": entry}).prices[0]
    expected = {
        "batch_cache_read_cost_per_token": "0.00000015",
        "batch_cache_creation_cost_per_token": "0.000001875",
        "cache_creation_1h_cost_per_token": "0.000006",
        "priority_input_cost_per_token": "0.000006",
        "priority_output_cost_per_token": "0.00003",
        "priority_cache_read_cost_per_token": "0.0000006",
        "flex_input_cost_per_token": "0.0000015",
        "flex_output_cost_per_token": "0.0000075",
        "flex_cache_read_cost_per_token": "0.00000015",
        "long_input_cost_per_token": "0.000006",
        "long_output_cost_per_token": "0.0000225",
        "long_cache_read_cost_per_token": "0.0000006",
        "long_cache_creation_cost_per_token": "0.0000075",
    }
    assert {c: parsed.prices[c] for c in expected} == {c: Decimal(v) for c, v in expected.items()}
    assert parsed.prices["long_context_threshold_tokens"] == 200_000


def test_the_lowest_long_context_tier_is_carried() -> None:
    entry = {
        "litellm_provider": "vertex_ai-language-models",
        "mode": "chat",
        "input_cost_per_token": "1e-6",
        "output_cost_per_token": "4e-6",
        "input_cost_per_token_above_256k_tokens": "3e-6",
        "input_cost_per_token_above_128k_tokens": "2e-6",
        "output_cost_per_token_above_128k_tokens": "8e-6",
    }
    parsed = prices.parse_litellm({"m": entry}).prices[0]
    assert parsed.prices["long_context_threshold_tokens"] == 128_000
    assert parsed.prices["long_input_cost_per_token"] == Decimal("2e-6")
    assert parsed.prices["long_output_cost_per_token"] == Decimal("8e-6")
    assert parsed.prices["long_cache_read_cost_per_token"] is None
    bad = {**entry, "output_cost_per_token_above_128k_tokens": -1}
    assert prices.parse_entry("m", bad) == "bad_price"


def test_key_prefix_equal_to_provider_is_stripped_others_kept() -> None:
    ids = by_id(prices.load_litellm_file(FIXTURE))
    assert ("openai", "gpt-5.4") in ids  # no prefix: model of its litellm_provider
    assert ("google", "gemini-3.1-pro") in ids  # gemini/ prefix of provider gemini, which is google to tierwise
    assert ("vertex_ai-language-models", "gemini-3.1-pro") in ids  # same model, a provider not in the alias map
    assert ("groq", "llama-4-scout") in ids
    assert ("together", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8") in ids  # only the first / splits
    assert ("fireworks", "accounts/fireworks/models/deepseek-v3p2") in ids
    assert ("openrouter", "openai/gpt-5.4") in ids
    # a prefix that is not the provider stays part of the model id
    assert ("vertex_ai-anthropic_models", "vertex_ai/claude-sonnet-4-6") in ids
    assert ("openai", "gpt-3.5-turbo-instruct") in ids  # text-completion-openai is OpenAI to tierwise


def test_providers_are_renamed_to_tierwise_names_after_the_key_is_split() -> None:
    ids = by_id(prices.load_litellm_file(FIXTURE))
    together = ids[("together", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8")]
    assert (together.litellm_provider, together.source_key) == (
        "together_ai",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    )
    assert ids[("google", "gemini-3.1-pro")].litellm_provider == "gemini"
    # no imported provider is an alias: every row can match an adapter-built event
    assert not {provider for provider, _ in ids} & {"gemini", "together_ai", "fireworks_ai", "text-completion-openai"}

    def one(key: str, provider: str) -> tuple[str, str]:
        entry = {"litellm_provider": provider, "mode": "chat", "input_cost_per_token": "1e-6", "output_cost_per_token": "2e-6"}
        (price,) = prices.parse_litellm({key: entry}).prices
        return price.provider, price.model

    # the split compares LiteLLM's prefix with LiteLLM's provider, not with tierwise's name for it
    assert one("together_ai/meta-llama/X", "together_ai") == ("together", "meta-llama/X")
    assert one("together/meta-llama/X", "together_ai") == ("together", "together/meta-llama/X")
    assert one("fireworks_ai/accounts/f/models/y", " fireworks_ai ") == ("fireworks", "accounts/f/models/y")
    # a provider the map does not know keeps its name, trimmed and lower-cased like every provider id
    assert one("Acme_AI/m-1", " Acme_AI ") == ("acme_ai", "m-1")
    assert one("sagemaker/m-2", "sagemaker") == ("sagemaker", "m-2")


def test_two_litellm_providers_that_are_one_provider_to_tierwise_import_once() -> None:
    def entry(provider: str, price: str) -> dict[str, str]:
        return {"litellm_provider": provider, "mode": "chat", "input_cost_per_token": price, "output_cost_per_token": price}

    result = prices.parse_litellm(
        {"gemini/gemini-x": entry("gemini", "0.000002"), "vertex_ai/gemini-x": entry("vertex_ai", "0.000003")}
    )
    assert [(p.provider, p.model, p.source_key) for p in result.prices] == [("google", "gemini-x", "gemini/gemini-x")]
    assert result.prices[0].prices["input_cost_per_token"] == Decimal("0.000002")  # the first key wins
    assert dict(result.skipped) == {"duplicate": 1}


def test_first_key_wins_for_a_duplicate_model() -> None:
    gpt = by_id(prices.load_litellm_file(FIXTURE))[("openai", "gpt-5.4")]
    assert gpt.source_key == "gpt-5.4"
    assert gpt.prices["input_cost_per_token"] == Decimal("0.0000025")


def test_the_seven_base_price_fields_map_and_missing_ones_are_none() -> None:
    ids = by_id(prices.load_litellm_file(FIXTURE))
    sonnet = ids[("anthropic", "claude-sonnet-4-6")].prices
    assert set(sonnet) == set(prices.PRICE_COLUMNS)
    assert {c: v for c, v in sonnet.items() if c not in prices.PRICE_COLUMNS[7:]} == {
        "input_cost_per_token": Decimal("0.000003"),
        "cache_read_cost_per_token": Decimal("0.0000003"),
        "cache_creation_cost_per_token": Decimal("0.00000375"),
        "output_cost_per_token": Decimal("0.000015"),
        "reasoning_cost_per_token": None,
        "batch_input_cost_per_token": Decimal("0.0000015"),
        "batch_output_cost_per_token": Decimal("0.0000075"),
    }
    assert all(sonnet[c] is None for c in prices.PRICE_COLUMNS[7:])  # the fixture has no variant rates
    assert ids[("google", "gemini-3.1-pro")].prices["reasoning_cost_per_token"] == Decimal("0.000012")


def test_prices_are_exact_decimals_not_float_approximations() -> None:
    # 1.1e-07 has no exact binary float; Decimal(1.1e-07) would be 1.0999999999999999e-07-ish
    trap = by_id(prices.load_litellm_file(FIXTURE))[("groq", "float-trap")].prices
    assert trap["input_cost_per_token"] == Decimal("0.00000011")
    assert trap["output_cost_per_token"] == Decimal("0.00000033")
    assert trap["cache_read_cost_per_token"] == Decimal("0.0000001")
    assert trap["input_cost_per_token"] * 3 == Decimal("0.00000033")
    assert Decimal(1.1e-07) != Decimal("0.00000011")  # the trap is real
    # a document built in Python with floats is read through their text too
    parsed = prices.parse_litellm(
        {"m": {"litellm_provider": "p", "mode": "chat", "input_cost_per_token": 1.1e-07, "output_cost_per_token": 0.3}}
    )
    assert parsed.prices[0].prices["input_cost_per_token"] == Decimal("0.00000011")
    assert parsed.prices[0].prices["output_cost_per_token"] == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (True, False),
        (float("nan"), False),
        (float("inf"), False),
        (-0.000001, False),
        ("1e-13", False),  # finer than DECIMAL(38,12)
        ("abc", False),
        (None, False),  # a missing required price
        ("0.000002", True),
        (0, True),
        (Decimal("0.000000000001"), True),
    ],
)
def test_bad_input_prices_are_skipped_and_counted(value: object, ok: bool) -> None:
    entry = {"litellm_provider": "p", "mode": "chat", "input_cost_per_token": value, "output_cost_per_token": 1e-06}
    doc = {"m": entry}
    result = prices.parse_litellm(doc)
    assert (len(result.prices) == 1) is ok
    assert result.skipped_total == (0 if ok else 1)


def test_a_document_that_is_not_an_object_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "list.json"
    bad.write_text("[1, 2]")
    with pytest.raises(TierwiseError, match="JSON object"):
        prices.load_litellm_file(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(TierwiseError, match="not valid JSON"):
        prices.load_litellm_file(broken)


def test_write_replaces_the_rows_of_the_same_date_only(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    full = prices.load_litellm_file(FIXTURE)
    prices.write_imported_prices(con, full, date(2026, 5, 1), "a.json")
    one = prices.parse_litellm(
        {
            "gpt-5.4": {
                "litellm_provider": "openai",
                "mode": "chat",
                "input_cost_per_token": "0.000004",
                "output_cost_per_token": "0.00002",
            }
        }
    )
    prices.write_imported_prices(con, one, date(2026, 6, 1), "b.json")
    assert con.execute("select count(*) from raw.imported_prices").fetchone() == (16,)
    # importing again for May with fewer models would unprice 14 of them: refused unless asked for
    with pytest.raises(TierwiseError, match=r"would remove 14 price\(s\) imported for 2026-05-01: anthropic/"):
        prices.write_imported_prices(con, one, date(2026, 5, 1), "c.json")
    assert con.execute("select count(*) from raw.imported_prices").fetchone() == (16,)
    # with replace, it replaces May's rows and leaves June's alone
    written = prices.write_imported_prices(con, one, date(2026, 5, 1), "c.json", replace=True)
    assert len(written.removed) == 14 and ("openai", "gpt-5.4") not in written.removed
    rows = con.execute(
        "select valid_from, model, input_cost_per_token::varchar, valid_to, source_file "
        "from raw.imported_prices order by valid_from"
    ).fetchall()
    assert rows == [
        (datetime(2026, 5, 1), "gpt-5.4", "0.000004000000", None, "c.json"),
        (datetime(2026, 6, 1), "gpt-5.4", "0.000004000000", None, "b.json"),
    ]


def test_stored_prices_keep_every_digit(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    prices.write_imported_prices(con, prices.load_litellm_file(FIXTURE), date(2026, 5, 1), None)
    got = con.execute(
        "select input_cost_per_token, cache_read_cost_per_token, output_cost_per_token "
        "from raw.imported_prices where provider = 'groq' and model = 'float-trap'"
    ).fetchone()
    assert got == (Decimal("0.000000110000"), Decimal("0.000000100000"), Decimal("0.000000330000"))


def test_cli_imports_and_prints_counts(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prices", "import", "litellm", str(FIXTURE), "--effective-from", "2026-05-01"])
    out = capsys.readouterr().out
    assert code == 0
    assert "imported 15 prices effective 2026-05-01" in out
    assert "skipped 11 entries" in out and "3 not_chat" in out and "1 sample_spec" in out
    con = duckdb.connect(str(home.warehouse), read_only=True)
    assert con.execute("select count(*), min(valid_from) from raw.imported_prices").fetchone() == (
        15,
        datetime(2026, 5, 1),
    )
    # stored under tierwise's provider names, the ones the price seeds and the adapters use
    stored = con.execute(
        "select source_key, provider, model from raw.imported_prices "
        "where source_key like 'together_ai/%' or source_key like 'gemini/%' order by source_key"
    ).fetchall()
    assert stored == [
        ("gemini/gemini-3.1-pro", "google", "gemini-3.1-pro"),
        (
            "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
            "together",
            "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        ),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--effective-from", "May 1st"], "--effective-from 'May 1st' is not a date"),
        (["--effective-from", "2026-02-30"], "is not a date"),
    ],
)
def test_cli_rejects_bad_dates(home: Home, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code = main(["prices", "import", "litellm", str(FIXTURE), *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_import_of_nothing_is_an_error_and_keeps_the_prices(
    home: Home, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["prices", "import", "litellm", str(FIXTURE), "--effective-from", "2026-05-01"]) == 0
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    capsys.readouterr()
    assert main(["prices", "import", "litellm", str(empty), "--effective-from", "2026-05-01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tierwise: error: no usable price in the file (0 entries skipped)") and err.count("\n") == 1
    # a shorter list needs --replace, and then says what it removed
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"gpt-5.4": json.loads(FIXTURE.read_text())["gpt-5.4"]}))
    assert main(["prices", "import", "litellm", str(one), "--effective-from", "2026-05-01"]) == 2
    assert "would remove 14 price(s) imported for 2026-05-01" in capsys.readouterr().err
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.imported_prices").fetchone() == (15,)
    assert main(["prices", "import", "litellm", str(one), "--effective-from", "2026-05-01", "--replace"]) == 0
    out = capsys.readouterr().out
    assert "imported 1 prices" in out and "removed 14 price(s) of the earlier import: anthropic/" in out
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.imported_prices").fetchone() == (1,)


def test_cli_missing_file_is_one_line(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prices", "import", "litellm", str(home.root / "nope.json"), "--effective-from", "2026-05-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "no such price file" in err

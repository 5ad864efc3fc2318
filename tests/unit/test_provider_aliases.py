"""One provider id set: the dbt alias seed is generated from the adapters' map, and every id is tierwise's."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schemas.provider_seed import SEED_PATH, drifted, main, render, write
from schemas.providers import MULTI_VENDOR_HOSTS, PROVIDER_ALIASES, PROVIDER_TIERS, canonical_provider

FIX = "run `python -m schemas.provider_seed` and commit dbt_project/seeds/provider_aliases.csv"
MODEL_PRICES = SEED_PATH.parent / "model_prices.csv"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_committed_seed_matches_the_map() -> None:
    assert SEED_PATH.exists(), f"{SEED_PATH} is missing: {FIX}"
    assert SEED_PATH.read_text(encoding="utf-8") == render(), f"{SEED_PATH} is stale: {FIX}"
    assert main(["--check"]) == 0
    # and it says what the map says, row for row, read back as dbt's CSV loader reads it
    assert {row["alias"]: row["canonical"] for row in read_csv(SEED_PATH)} == PROVIDER_ALIASES


def test_render_is_deterministic_sorted_and_newline_terminated() -> None:
    text = render()
    assert text == render()
    lines = text.split("\n")
    assert lines[0] == "alias,canonical" and lines[-1] == ""
    aliases = [line.split(",")[0] for line in lines[1:-1]]
    assert aliases == sorted(aliases) and len(aliases) == len(PROVIDER_ALIASES)
    assert "\r" not in text


def test_drift_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "provider_aliases.csv"
    assert drifted(seed)  # missing
    write(seed)
    assert not drifted(seed)
    # the map gains a spelling the committed file does not have
    monkeypatch.setitem(PROVIDER_ALIASES, "new_cloud_ai", "together")
    assert drifted(seed)
    write(seed)
    assert "new_cloud_ai,together\n" in seed.read_text(encoding="utf-8")
    # a hand edit of the file
    monkeypatch.delitem(PROVIDER_ALIASES, "new_cloud_ai")
    assert drifted(seed)


def test_the_map_folds_in_one_step_into_tierwise_names() -> None:
    for alias, canonical in PROVIDER_ALIASES.items():
        # staging looks aliases up trimmed and lower-cased, as canonical_provider() does
        assert alias == alias.strip().lower(), alias
        # every alias lands on a provider with a tier (or whose models give it one), never on another alias
        assert canonical in PROVIDER_TIERS or canonical in MULTI_VENDOR_HOSTS, (alias, canonical)
        assert alias not in PROVIDER_TIERS, alias
    # the spellings this fix is about
    assert {a: PROVIDER_ALIASES[a] for a in ("gemini", "vertex_ai", "together_ai", "fireworks_ai")} == {
        "gemini": "google",
        "vertex_ai": "google",
        "together_ai": "together",
        "fireworks_ai": "fireworks",
    }


def test_price_seed_uses_tierwise_provider_names_only() -> None:
    providers = {row["provider"] for row in read_csv(MODEL_PRICES)}
    assert providers == {canonical_provider(p) for p in providers}
    assert not providers & set(PROVIDER_ALIASES)
    # the hosted and Google rows are spelled as the adapters write them
    assert {"google", "together", "fireworks"} <= providers

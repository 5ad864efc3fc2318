"""tierwise.yaml: where it is, what a bad value says, and what reaches the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.errors import TierwiseError
from decisions.config import load_config, load_into_warehouse
from decisions.sql_library import catalog_connection
from schemas.providers import PROVIDER_TIERS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tierwise.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workloads:\n  - {name: chat, data_class: secret}\n", "workload chat: data_class: Input should be 'public'"),
        ("workloads:\n  - {name: chat, ops_fte: -0.5}\n", "workload chat: ops_fte: Input should be greater than or equal to 0"),
        ("workloads:\n  - {name: chat, latency_slo: 300}\n", "workload chat: latency_slo: is not a known field"),
        ("workloads:\n  - {data_class: pii}\n", "workloads[0]: name: Field required"),
        ("organization: {domicile: Germany}\n", "organization.domicile: must be a two-letter country code"),
        ("workloads:\n  - {name: a}\n  - {name: a}\n", "workload 'a' is listed twice"),
        ("workloads: [\n", "not valid YAML at line"),
        ("- just a list\n", "expected a mapping with organization and workloads"),
    ],
)
def test_a_bad_value_names_the_file_the_workload_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TierwiseError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_file_comes_from_tierwise_config_else_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TIERWISE_CONFIG", raising=False)
    config, source = load_config()
    assert source is None and config.workloads == [] and config.organization.domicile is None  # no file: defaults
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "tierwise.yaml").write_text("organization: {domicile: fr}\n")
    config, source = load_config()
    assert source == tmp_path / "home" / "tierwise.yaml" and config.organization.domicile == "FR"
    assert config.organization.eu_domiciled
    other = write(tmp_path, "organization: {domicile: US}\n")
    monkeypatch.setenv("TIERWISE_CONFIG", str(other))
    config, source = load_config()
    assert source == other and not config.organization.eu_domiciled
    monkeypatch.setenv("TIERWISE_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(TierwiseError, match="missing.yaml does not exist"):
        load_config()


def test_the_config_reaches_the_warehouse_tables_dbt_reads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "organization: {domicile: NL, monthly_active_users: 5}\n"
        "workloads:\n"
        "  - {name: chat, data_class: pii, ops_fte: 0.75, candidate_models: [qwen3.5-72b], exclude_models: [x]}\n"
        "  - {name: tags}\n",
    )
    con = duckdb.connect()
    assert load_into_warehouse(con, path) == path
    assert con.execute("select domicile, eu_domiciled, monthly_active_users from raw.organization_config").fetchall() == [
        ("NL", True, 5)
    ]
    rows = con.execute(
        "select workload, data_class, ops_fte::double, customization, candidate_models, exclude_models "
        "from raw.workload_config order by workload"
    ).fetchall()
    # absent fields stay NULL: the rules apply the stated defaults
    assert rows == [("chat", "pii", 0.75, None, ["qwen3.5-72b"], ["x"]), ("tags", None, None, None, None, None)]
    # loading again replaces, never appends
    load_into_warehouse(con, write(tmp_path, "workloads: []\n"))
    assert con.execute("select count(*) from raw.workload_config").fetchone() == (0,)


def test_sql_provider_tiers_match_the_adapters_map() -> None:
    con = catalog_connection()
    for provider, tier in PROVIDER_TIERS.items():
        assert con.execute("select tw_provider_tier(?)", [provider]).fetchone() == (tier.value,), provider
    assert con.execute("select tw_provider_tier('deepseek')").fetchone() == ("closed_api",)

"""`tierwise recommend`: the tier recommendation of each workload, from the warehouse or from a scenario file.

Over the warehouse it reads the tier_recommendation mart dbt built. With a scenario (hypothetical workloads,
no warehouse) it runs the same SQL library macros (tw_tier_projection, tw_volume_forecast,
tw_tier_recommendation) in an in-memory DuckDB on the dbt seeds, so both answers come from one implementation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.errors import TierwiseError
from core.warehouse_lock import read_only
from decisions.breakeven import token_mix
from decisions.config import parse_file
from decisions.sql_library import catalog_connection
from schemas.workload_config import Scenario, ScenarioWorkload

RECOMMENDATION_SQL = "select * from main.tier_recommendation{where} order by workload"

WORKLOAD_COLUMNS = {
    "workload": "varchar",
    "tier_now": "varchar",
    "provider_now": "varchar",
    "model_now": "varchar",
    "current_gpu_type": "varchar",
    "current_engine": "varchar",
    "current_quantization": "varchar",
    "current_gpus": "integer",
    "volume": "bigint",
    **{f"{p}_{t}": "bigint" for p in ("tpd", "btpd") for t in ("input", "cache_read", "cache_creation", "output", "reasoning")},
    "cached_share": "double",
    "peak_to_mean": "double",
    "observed_monthly_cost_usd": "decimal(38,12)",
    "data_class": "varchar",
    "ops_fte": "decimal(9,4)",
    "customization": "boolean",
    "latency_slo_ms": "double",
    "capability_class": "varchar",
    "candidate_models": "varchar[]",
    "exclude_models": "varchar[]",
    "domicile": "varchar",
    "eu_domiciled": "boolean",
    "monthly_active_users": "bigint",
}


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def from_warehouse(path: Path, workload: str | None = None) -> list[dict[str, Any]]:
    """Rows of the tier_recommendation mart (all workloads, or one)."""
    with read_only(path) as con:
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main' and table_name = 'tier_recommendation'"
        ).fetchone()
        if not found or not found[0]:
            raise TierwiseError(f"{path} has no tier_recommendation yet: run `tierwise run` first")
        where, params = ("", []) if workload is None else (" where workload = ?", [workload])
        rows = _rows(con.execute(RECOMMENDATION_SQL.format(where=where), params))
        if workload is not None and not rows:
            known = [r[0] for r in con.execute("select workload from main.tier_recommendation order by 1").fetchall()]
            raise TierwiseError(f"no workload {workload!r} in tier_recommendation; known: {', '.join(known) or 'none'}")
        return rows


def _provider_now(con: duckdb.DuckDBPyConnection, w: ScenarioWorkload) -> str | None:
    """Today's provider when the scenario does not say: the listed one with the lowest input price."""
    if w.provider_now or w.tier_now == "self_hosted" or w.model_now is None:
        return w.provider_now or w.current_engine
    row = con.execute(
        "select provider from opts where tier = ? and model = ? order by input_price, provider limit 1",
        [w.tier_now, w.model_now],
    ).fetchone()
    return row[0] if row else None


def _workload_row(
    con: duckdb.DuckDBPyConnection, w: ScenarioWorkload, scenario: Scenario, asm: dict[str, Any]
) -> dict[str, Any]:
    input_share = w.input_share if w.input_share is not None else asm["default_input_share"]
    mix = token_mix(w.volume, input_share, w.cached_share or 0.0, w.batch_share or 0.0)
    return {
        "workload": w.name,
        "tier_now": w.tier_now,
        "provider_now": _provider_now(con, w),
        "model_now": w.model_now,
        "current_gpu_type": w.current_gpu_type,
        "current_engine": w.current_engine,
        "current_quantization": w.current_quantization,
        "current_gpus": None,
        "volume": w.volume,
        **mix,
        "cached_share": w.cached_share or 0.0,
        "peak_to_mean": w.peak_to_mean if w.peak_to_mean is not None else asm["default_peak_to_mean"],
        "observed_monthly_cost_usd": None,
        "data_class": w.data_class,
        "ops_fte": Decimal(str(w.ops_fte)) if w.ops_fte is not None else None,
        "customization": w.customization,
        "latency_slo_ms": w.latency_slo_ms,
        "capability_class": w.capability_class,
        "candidate_models": w.candidate_models,
        "exclude_models": w.exclude_models,
        "domicile": scenario.organization.domicile,
        "eu_domiciled": scenario.organization.eu_domiciled,
        "monthly_active_users": scenario.organization.monthly_active_users,
    }


def run_scenario(scenario: Scenario, today: date | None = None) -> list[dict[str, Any]]:
    """tier_recommendation rows for the scenario's workloads, computed in memory from the seeds."""
    return project_scenario(scenario, today)[1]


def project_scenario(scenario: Scenario, today: date | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tier_projection rows, tier_recommendation rows) of the scenario, from the same macros as the marts."""
    today = today or datetime.now(UTC).date()
    as_of = datetime.combine(today + timedelta(days=1), datetime.min.time())
    con = catalog_connection()
    try:
        con.execute(
            "create table asm as select * from tw_assumptions('projection_assumptions', 'selfhost_assumptions', ?)", [as_of]
        )
        asm = _rows(con.execute("select * from asm"))[0]
        con.execute(
            """create table opts as select * from tw_candidate_options('catalog_prices', 'model_catalog', 'model_licenses',
               'gpu_throughput', 'gpu_prices', ?)""",
            [as_of],
        )
        con.execute(f"create table wl ({', '.join(f'{c} {t}' for c, t in WORKLOAD_COLUMNS.items())})")
        cols = list(WORKLOAD_COLUMNS)
        for w in scenario.workloads:
            row = _workload_row(con, w, scenario, asm)
            con.execute(f"insert into wl values ({', '.join('?' for _ in cols)})", [row[c] for c in cols])
        con.execute(
            "create table evals (workload varchar, model varchar, eval_n bigint, eval_mean double, baseline_n bigint, "
            "baseline_mean double, eval_gap double)"
        )
        for w in scenario.workloads:
            if w.shadow_eval_vs_baseline is not None:
                # the stated result applies to the listed candidates, else to every candidate
                for model in w.candidate_models or ["*"]:
                    con.execute(
                        "insert into evals values (?, ?, null, null, null, null, ?)", [w.name, model, w.shadow_eval_vs_baseline]
                    )
        con.execute(
            "create table latency (workload varchar, tier varchar, provider varchar, model varchar, latency_n bigint, "
            "p50_ms double, p90_ms double, p99_ms double)"
        )
        con.execute("create table weekly (workload varchar, week_index integer, week_end date, tokens_per_day double)")
        for w in scenario.workloads:
            weeks = w.weekly_tokens_per_day or []
            for i, tpd in enumerate(weeks):
                end = today - timedelta(days=7 * (len(weeks) - 1 - i))
                con.execute("insert into weekly values (?, ?, ?, ?)", [w.name, i, end, tpd])
        con.execute("create table projection as select * from tw_tier_projection('wl', 'opts', 'evals', 'latency', 'asm')")
        con.execute("create table forecast as select * from tw_volume_forecast('weekly', 'projection', 'asm')")
        rows = _rows(con.execute("select * from tw_tier_recommendation('projection', 'forecast', 'asm') order by workload"))
        projection = _rows(con.execute("select * from projection order by workload, option_id"))
    finally:
        con.close()
    order = {w.name: i for i, w in enumerate(scenario.workloads)}
    return projection, sorted(rows, key=lambda r: order[r["workload"]])


def from_scenario_file(path: Path, today: date | None = None) -> list[dict[str, Any]]:
    return run_scenario(parse_file(path, Scenario), today)

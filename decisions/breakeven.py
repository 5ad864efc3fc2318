"""`tierwise breakeven`: the what-if calculator of the three tiers at given daily volumes.

The costs, the GPU sizing and the crossovers come from the SQL library's macros (tw_option_costs,
tw_breakeven_api_vs_selfhost), run in an in-memory DuckDB with the dbt seeds: the very code behind the
tier_projection mart. This module only builds the input rows and reads the answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from core.errors import TierwiseError
from decisions.render import jsonable, money, table, tokens, usd
from decisions.sql_library import catalog_connection

TIERS = ("closed_api", "hosted_open_api", "self_hosted")
TOKEN_TYPES = ("input", "cache_read", "cache_creation", "output", "reasoning")
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PerToken:
    """A per-token tier: a flat blended price in USD per 1M tokens, or a catalog (provider, model)."""

    per_million: Decimal | None = None
    provider: str | None = None
    model: str | None = None

    def describe(self) -> str:
        if self.per_million is not None:
            return f"${self.per_million}/1M tokens"
        return f"{self.model} on {self.provider}"


@dataclass(frozen=True)
class WhatIf:
    volumes: tuple[int, ...]
    closed: PerToken = PerToken(per_million=Decimal("3.00"))
    hosted: PerToken = PerToken(per_million=Decimal("0.50"))
    input_share: float | None = None  # None: the projection_assumptions default
    cached_share: float = 0.0
    batch_share: float = 0.0
    peak_to_mean: float | None = None  # None: the projection_assumptions default (a flat day)
    size_class: str = "medium"
    gpu_type: str = "H100-80GB"
    engine: str = "vllm"
    quantization: str = "fp8"
    gpu_hourly_price: Decimal | None = None  # None: gpu_prices
    tokens_per_second: Decimal | None = None  # None: gpu_throughput
    target_utilization: Decimal | None = None
    min_gpus: int | None = None
    ops_fte: Decimal | None = None
    salary: Decimal | None = None
    setup_fte: Decimal | None = None
    setup_months: int | None = None
    amortization_months: int | None = None
    preset: str | None = None
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))


# The reference article's self-hosting table (Apr 2026), kept only to check it against its own assumptions:
# daily volume -> (closed API/month, hosted open API/month, self-hosted/month incl. ops, H100s it states).
ARTICLE_TABLE: dict[int, tuple[int, int, int, int]] = {
    10_000_000: (900, 150, 4_994, 2),
    50_000_000: (4_500, 750, 4_994, 2),
    300_000_000: (27_000, 4_500, 8_750, 4),
    1_000_000_000: (90_000, 15_000, 20_200, 10),
}
ARTICLE_CROSSOVERS = {"closed_api_vs_self_hosted": 40_000_000, "hosted_open_api_vs_self_hosted": 1_000_000_000}


def article_preset(volumes: tuple[int, ...] = ()) -> WhatIf:
    """The article's stated assumptions: closed $3/1M, hosted $0.50/1M, H100 at $2/h, 2 GPUs minimum, 0.1 FTE
    of ops at $150k; its monthly column carries no setup cost (shown apart), and it sizes by daily volume."""
    return WhatIf(
        volumes=volumes or tuple(ARTICLE_TABLE),
        closed=PerToken(per_million=Decimal("3.00")),
        hosted=PerToken(per_million=Decimal("0.50")),
        gpu_type="H100-80GB",
        gpu_hourly_price=Decimal("2.00"),
        min_gpus=2,
        ops_fte=Decimal("0.1"),
        salary=Decimal("150000"),
        setup_fte=Decimal("0.5"),
        setup_months=3,
        amortization_months=0,
        peak_to_mean=1.0,
        preset="article",
    )


def _half_up(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def token_mix(volume: int, input_share: float, cached_share: float, batch_share: float) -> dict[str, int]:
    """A day's tokens by type (tpd_*, interactive; btpd_*, batch) from shares, whole tokens rounded half up."""
    v = Decimal(volume)
    all_input = _half_up(v * Decimal(str(input_share)))
    cache_read = _half_up(Decimal(all_input) * Decimal(str(cached_share)))
    totals = {
        "input": all_input - cache_read,
        "cache_read": cache_read,
        "cache_creation": 0,
        "output": volume - all_input,
        "reasoning": 0,
    }
    mix: dict[str, int] = {}
    for t, n in totals.items():
        batch = _half_up(Decimal(n) * Decimal(str(batch_share)))
        mix[f"tpd_{t}"] = n - batch
        mix[f"btpd_{t}"] = batch
    return mix


def _assumptions(con: duckdb.DuckDBPyConnection, w: WhatIf) -> dict[str, Any]:
    con.execute(
        "create or replace table asm as select * from tw_assumptions('projection_assumptions', 'selfhost_assumptions', ?)",
        [w.as_of],
    )
    overrides = {
        "target_utilization": w.target_utilization,
        "min_gpus": w.min_gpus,
        "staff_ops_fte": w.ops_fte,
        "staff_salary": w.salary,
        "staff_setup_fte": w.setup_fte,
        "staff_setup_months": w.setup_months,
        "amortization_months": w.amortization_months,
    }
    for column, value in overrides.items():
        if value is not None:
            con.execute(f"update asm set {column} = ?", [value])
    cur = con.execute("select * from asm")
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise TierwiseError("no projection assumptions in force: check dbt_project/seeds/projection_assumptions.csv")
    return dict(zip(names, row, strict=True))


def _per_token_option(con: duckdb.DuckDBPyConnection, tier: str, spec: PerToken, as_of: datetime) -> None:
    if spec.per_million is not None:
        price = spec.per_million / MILLION
        con.execute(
            f"""insert into opts by name
                select '{tier}|what-if' as option_id, '{tier}' as tier, 'what-if' as provider,
                       ? as model, ?::decimal(38,12) as input_price, ?::decimal(38,12) as cache_read_price,
                       ?::decimal(38,12) as cache_creation_price, ?::decimal(38,12) as output_price,
                       ?::decimal(38,12) as reasoning_price""",
            [f"${spec.per_million}/1M", price, price, price, price, price],
        )
        return
    found = con.execute(
        """insert into opts by name
           select * from tw_candidate_options('catalog_prices', 'model_catalog', 'model_licenses', 'gpu_throughput',
                                              'gpu_prices', ?)
           where tier = ? and provider = ? and model = ?""",
        [as_of, tier, spec.provider, spec.model],
    ).fetchone()
    if not found or not found[0]:
        raise TierwiseError(
            f"no {tier} price in the catalog for {spec.model} on {spec.provider} (see dbt_project/seeds/model_prices.csv)"
        )


def _self_hosted_option(con: duckdb.DuckDBPyConnection, w: WhatIf) -> None:
    row = con.execute(
        """select tokens_per_second, gpus_per_replica, prefix_speedup, quality_loss_max, source from gpu_throughput
           where size_class = ? and gpu_type = ? and engine = ? and quantization = ?
             and valid_from <= ? and (valid_to is null or ? < valid_to)
           order by valid_from desc limit 1""",
        [w.size_class, w.gpu_type, w.engine, w.quantization, w.as_of, w.as_of],
    ).fetchone()
    if row is None and w.tokens_per_second is None:
        raise TierwiseError(
            f"no throughput assumption for a {w.size_class} model on {w.gpu_type} {w.engine} {w.quantization} "
            "(dbt_project/seeds/gpu_throughput.csv): pass --tokens-per-second"
        )
    tps, replica, speedup, _, _ = row or (w.tokens_per_second, 1, Decimal(0), Decimal(0), None)
    price = w.gpu_hourly_price
    if price is None:
        found = con.execute(
            """select hourly_price_usd from gpu_prices where gpu_type = ? and valid_from <= ?
               and (valid_to is null or ? < valid_to) order by valid_from desc limit 1""",
            [w.gpu_type, w.as_of, w.as_of],
        ).fetchone()
        if found is None:
            raise TierwiseError(f"no GPU price for {w.gpu_type} in dbt_project/seeds/gpu_prices.csv: pass --gpu-price")
        price = found[0]
    con.execute(
        """insert into opts by name
           select ? as option_id, 'self_hosted' as tier, ? as provider, ? as model, ? as gpu_type, ? as engine,
                  ? as quantization, ?::decimal(18,3) as tokens_per_second, ?::integer as gpus_per_replica,
                  ?::decimal(9,4) as prefix_speedup, ?::decimal(38,12) as gpu_hourly_price""",
        [
            f"self_hosted|{w.size_class}|{w.gpu_type}|{w.engine}|{w.quantization}",
            w.engine,
            f"{w.size_class} model",
            w.gpu_type,
            w.engine,
            w.quantization,
            w.tokens_per_second if w.tokens_per_second is not None else tps,
            replica,
            speedup,
            price,
        ],
    )


def compute(w: WhatIf) -> dict[str, Any]:
    """Costs of the three tiers at each volume, the crossovers and the notes, as Python values (Decimal money)."""
    if not w.volumes:
        raise TierwiseError("give --tokens-per-day (or --preset article for the article's table)")
    con = catalog_connection()
    try:
        asm = _assumptions(con, w)
        input_share = w.input_share if w.input_share is not None else asm["default_input_share"]
        peak = w.peak_to_mean if w.peak_to_mean is not None else asm["default_peak_to_mean"]
        con.execute(
            """create table opts as select * from tw_candidate_options('catalog_prices', 'model_catalog', 'model_licenses',
               'gpu_throughput', 'gpu_prices', ?) where false""",
            [w.as_of],
        )
        _per_token_option(con, "closed_api", w.closed, w.as_of)
        _per_token_option(con, "hosted_open_api", w.hosted, w.as_of)
        _self_hosted_option(con, w)
        rows = []
        for volume in w.volumes:
            mix = token_mix(volume, input_share, w.cached_share, w.batch_share)
            rows.append({"volume": volume, "base_volume": volume, "cached_share": w.cached_share, "peak_to_mean": peak, **mix})
        con.execute(
            "create table wl (volume bigint, base_volume bigint, cached_share double, peak_to_mean double, "
            + ", ".join(f"{p}_{t} bigint" for p in ("tpd", "btpd") for t in TOKEN_TYPES)
            + ")"
        )
        cols = list(rows[0])
        con.executemany(
            f"insert into wl ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})", [list(r.values()) for r in rows]
        )
        con.execute("create table pairs as select wl.*, o.*, a.* from wl cross join opts as o cross join asm as a")
        cur = con.execute("create table costs as select * from tw_option_costs('pairs')")
        cur = con.execute(
            """select volume, tier, provider, model, gpu_type, engine, quantization, gpus, gpus_per_replica,
                      tokens_per_second, gpu_hour_capacity, monthly_cost_usd, api_monthly_cost_usd, gpu_monthly_cost_usd,
                      gpu_monthly_each_usd, ops_monthly_cost_usd, setup_cost_usd, setup_monthly_cost_usd,
                      run_rate_monthly_cost_usd
               from costs order by volume, tier"""
        )
        names = [d[0] for d in cur.description]
        costs = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        first = w.volumes[0]
        crossing = con.execute(
            """select c.tier, tw_breakeven_api_vs_selfhost(c.api_monthly_cost_usd, c.volume,
                          s.ops_monthly_cost_usd + s.setup_monthly_cost_usd, s.gpu_monthly_each_usd, s.min_gpus,
                          s.gpus_per_replica, s.gpu_hour_capacity, s.peak_to_mean),
                      cast(s.gpu_monthly_each_usd as double) / (cast(c.api_monthly_cost_usd as double) / c.volume)
                          / (cast(s.tokens_per_second as double) * cast(s.target_utilization as double)
                             * 86400 / s.peak_to_mean)
               from costs as c join costs as s on s.volume = c.volume and s.tier = 'self_hosted'
               where c.volume = ? and c.tier <> 'self_hosted'""",
            [first],
        ).fetchall()
    finally:
        con.close()
    by_volume: dict[int, dict[str, dict[str, Any]]] = {}
    for c in costs:
        by_volume.setdefault(c["volume"], {})[c["tier"]] = c
    found = {f"{tier}_vs_self_hosted": (int(v) if v is not None else None) for tier, v, _ in crossing}
    crossovers: dict[str, int | None] = {
        "closed_api_vs_self_hosted": found.get("closed_api_vs_self_hosted"),
        "hosted_open_api_vs_self_hosted": found.get("hosted_open_api_vs_self_hosted"),
        # Two per-token tiers each cost a fixed price per token: one is cheaper at every volume, they never cross.
        "closed_api_vs_hosted_open_api": None,
    }
    speed_needed = {tier: factor for tier, _, factor in crossing}
    result = {
        "preset": w.preset,
        "as_of": w.as_of,
        "assumptions": _assumption_summary(w, asm, input_share, peak, by_volume[first]["self_hosted"]),
        "rows": [{"tokens_per_day": v, "tiers": by_volume[v]} for v in w.volumes],
        "crossovers": crossovers,
    }
    result["notes"] = _notes(w, result, speed_needed)
    return result


def _assumption_summary(
    w: WhatIf, asm: dict[str, Any], input_share: float, peak: float, self_row: dict[str, Any]
) -> dict[str, Any]:
    return {
        "closed_api": w.closed.describe(),
        "hosted_open_api": w.hosted.describe(),
        "input_share": input_share,
        "cached_share": w.cached_share,
        "batch_share": w.batch_share,
        "peak_to_mean": peak,
        "gpu": f"{w.gpu_type} {w.engine} {w.quantization} ({w.size_class} model)",
        "gpu_hourly_price_usd": self_row["gpu_monthly_each_usd"] / asm["hours_per_month"],
        "tokens_per_second_per_gpu": self_row["tokens_per_second"],
        "gpus_per_replica": self_row["gpus_per_replica"],
        "target_utilization": asm["target_utilization"],
        "min_gpus": asm["min_gpus"],
        "ops_fte": asm["staff_ops_fte"],
        "loaded_salary_usd_per_year": asm["staff_salary"],
        "setup": f"{asm['staff_setup_fte']} FTE for {asm['staff_setup_months']} months",
        "setup_cost_usd": self_row["setup_cost_usd"],
        "amortization_months": asm["amortization_months"],
        "days_per_month": asm["days_per_month"],
        "hours_per_month": asm["hours_per_month"],
    }


def _notes(w: WhatIf, result: dict[str, Any], speed_needed: dict[str, float | None]) -> list[str]:
    notes: list[str] = []
    a = result["assumptions"]
    notes.append(
        f"self-hosted: GPUs = max({a['min_gpus']} for reliability, ceil(peak tokens/s / "
        f"({a['tokens_per_second_per_gpu']:.0f} tokens/s x {float(a['target_utilization']):.0%})), "
        f"in replicas of {a['gpus_per_replica']}; setup {usd(a['setup_cost_usd'])} "
        + (
            f"spread over {a['amortization_months']} months"
            if a["amortization_months"]
            else "not in the monthly cost (one-off, see payback)"
        )
    )
    for tier, needed in speed_needed.items():
        if result["crossovers"][f"{tier}_vs_self_hosted"] is None and needed is not None:
            notes.append(
                f"{tier} vs self_hosted never cross at these assumptions: the tokens one GPU serves cost less on {tier} "
                f"than the GPU itself; self-hosting beats it only above {needed * float(a['tokens_per_second_per_gpu']):,.0f} "
                f"tokens/s per GPU at {float(a['target_utilization']):.0%} utilization"
            )
    if w.preset == "article":
        notes += _article_notes(result)
    return notes


def _article_notes(result: dict[str, Any]) -> list[str]:
    """Where the article's own figures do not follow from its stated assumptions (computed with the same macros)."""
    notes: list[str] = []
    con = catalog_connection()
    try:
        a = result["assumptions"]
        hours = a["hours_per_month"]
        ops = con.execute("select tw_ops_monthly(?, ?)", [a["ops_fte"], a["loaded_salary_usd_per_year"]]).fetchone()[0]  # type: ignore[index]
        for row in result["rows"]:
            v = row["tokens_per_day"]
            if v not in ARTICLE_TABLE:
                continue
            closed, hosted, self_claim, gpus_claim = ARTICLE_TABLE[v]
            self_row = row["tiers"]["self_hosted"]
            gpus_cost = con.execute(
                "select tw_gpu_monthly(?, ?, ?)", [gpus_claim, a["gpu_hourly_price_usd"], hours]
            ).fetchone()[0]  # type: ignore[index]
            stated = gpus_cost + ops
            if stated != Decimal(self_claim):
                notes.append(
                    f"at {tokens(v)} tokens/day the article's self-hosted ${self_claim:,} ({gpus_claim} x H100 + ops) "
                    f"does not follow from its assumptions: {gpus_claim} x ${a['gpu_hourly_price_usd']:.2f}/h "
                    f"x {hours} h = {usd(gpus_cost)}, + {usd(ops)} ops = {usd(stated)}"
                )
            if self_row["gpus"] != gpus_claim:
                notes.append(
                    f"at {tokens(v)} tokens/day tierwise sizes {self_row['gpus']} GPUs ({usd(self_row['monthly_cost_usd'])}), "
                    f"the article {gpus_claim}: it states no per-GPU throughput; tierwise uses "
                    f"{a['tokens_per_second_per_gpu']:.0f} tokens/s per GPU at {float(a['target_utilization']):.0%} utilization"
                )
            for tier, claim in (("closed_api", closed), ("hosted_open_api", hosted)):
                ours = row["tiers"][tier]["monthly_cost_usd"]
                if ours != Decimal(claim):
                    notes.append(
                        f"at {tokens(v)} tokens/day the article's {tier} ${claim:,} differs from the computed {usd(ours)}"
                    )
            if v == 1_000_000_000 and hosted < self_claim:
                notes.append(
                    f"the article's own 1B row has the hosted API (${hosted:,}) cheaper than self-hosting (${self_claim:,}), "
                    "against its claim that self-hosting beats hosted APIs at about 1B tokens/day"
                )
    finally:
        con.close()
    for key, claim in ARTICLE_CROSSOVERS.items():
        ours = result["crossovers"][key]
        if ours is None:
            notes.append(f"{key}: the article says about {tokens(claim)} tokens/day; computed: never at these assumptions")
        elif abs(ours - claim) > claim * 0.05:
            notes.append(f"{key}: the article says about {tokens(claim)} tokens/day; computed: {ours:,} tokens/day")
    return notes


# --- output ----------------------------------------------------------------------------------------------

TIER_FIELDS = ("monthly_cost_usd", "provider", "model")
SELF_FIELDS = (
    "gpus",
    "gpu_type",
    "engine",
    "quantization",
    "gpu_monthly_cost_usd",
    "ops_monthly_cost_usd",
    "setup_monthly_cost_usd",
    "setup_cost_usd",
)


def _tiers_json(tiers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tier in TIERS:
        row = tiers[tier]
        item = {k: row[k] for k in TIER_FIELDS}
        if tier == "self_hosted":
            item.update({k: row[k] for k in SELF_FIELDS})
            item.pop("provider")
            item.pop("model")
        out[tier] = jsonable(item)
    return out


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """One volume: the issue's shape. Several: the same per volume under "rows"."""
    crossovers = dict(result["crossovers"])
    if len(result["rows"]) == 1:
        row = result["rows"][0]
        return {
            "tokens_per_day": row["tokens_per_day"],
            "tiers": _tiers_json(row["tiers"]),
            "crossovers": crossovers,
            "notes": result["notes"],
            "assumptions": jsonable(result["assumptions"]),
            "preset": result["preset"],
        }
    return {
        "preset": result["preset"],
        "rows": [{"tokens_per_day": r["tokens_per_day"], "tiers": _tiers_json(r["tiers"])} for r in result["rows"]],
        "crossovers": crossovers,
        "notes": result["notes"],
        "assumptions": jsonable(result["assumptions"]),
    }


def to_text(result: dict[str, Any]) -> str:
    headers = ["tokens/day", "closed_api", "hosted_open_api", "self_hosted", "GPUs"]
    body = []
    for r in result["rows"]:
        t = r["tiers"]
        s = t["self_hosted"]
        body.append(
            [
                tokens(r["tokens_per_day"]),
                usd(t["closed_api"]["monthly_cost_usd"]),
                usd(t["hosted_open_api"]["monthly_cost_usd"]),
                usd(s["monthly_cost_usd"]),
                f"{s['gpus']} x {s['gpu_type']}" if s["gpus"] else "-",
            ]
        )
    title = "monthly cost by tier" + (" (the article's assumptions)" if result["preset"] == "article" else "")
    lines = [title, table(headers, body, right=(0, 1, 2, 3))]
    lines.append("\ncrossovers (tokens/day):")
    for key, value in result["crossovers"].items():
        lines.append(f"  {key:<32} {'never' if value is None else f'{value:,} ({tokens(value)})'}")
    lines.append("\nassumptions:")
    for key, value in result["assumptions"].items():
        shown = money(value) if isinstance(value, Decimal) and key.endswith("_usd") else value
        lines.append(f"  {key:<28} {shown}")
    if result["notes"]:
        lines.append("\nnotes:")
        lines += [f"  - {n}" for n in result["notes"]]
    return "\n".join(lines)


def with_volumes(w: WhatIf, volumes: tuple[int, ...]) -> WhatIf:
    return replace(w, volumes=volumes)

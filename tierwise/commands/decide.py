"""`tierwise breakeven` and `tierwise recommend`: should a workload switch tiers, and from what volume on."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from core.errors import TierwiseError
from core.home import warehouse_path
from decisions import breakeven as be
from decisions.recommend import from_scenario_file, from_warehouse
from decisions.render import recommendation_json, recommendations_text

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9}


def parse_tokens(text: str) -> int:
    """'45000000', '45M', '1.5B', '300k' -> tokens/day."""
    match = re.fullmatch(r"\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmMbB]?)\s*", text)
    if not match:
        raise TierwiseError(f"--tokens-per-day {text!r} is not a number of tokens (e.g. 45000000, 45M, 1.5B)")
    value = Decimal(match.group(1).replace(",", "").replace("_", "")) * _SUFFIX[match.group(2).upper()]
    if value <= 0 or value != value.to_integral_value():
        raise TierwiseError(f"--tokens-per-day {text!r} must be a positive whole number of tokens")
    return int(value)


def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise TierwiseError(f"{option} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise TierwiseError(f"{option} {text!r} must be a non-negative number")
    return value


def _per_token(price: str | None, model: str | None, option: str, default: be.PerToken) -> be.PerToken:
    if price is not None and model is not None:
        raise TierwiseError(f"give {option}-price or {option}-model, not both")
    if model is not None:
        provider, sep, name = model.partition("/")
        if not sep or not provider or not name:
            raise TierwiseError(f"{option}-model {model!r} must be provider/model, e.g. openai/gpt-5.4")
        return be.PerToken(provider=provider, model=name)
    if price is not None:
        return be.PerToken(per_million=_decimal(price, f"{option}-price"))
    return default


@click.command()
@click.option("--tokens-per-day", "volumes", multiple=True, help="Daily volume (45000000, 45M, 1.5B); repeat for a table.")
@click.option("--preset", type=click.Choice(["article"]), help="The reference article's assumptions and its table.")
@click.option("--input-share", type=click.FloatRange(0, 1), help="Share of tokens that are input (default 0.8).")
@click.option(
    "--cached-share", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Share of input read from cache."
)
@click.option(
    "--batch-share", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Share sent through batch APIs."
)
@click.option("--peak-to-mean", type=click.FloatRange(1, 24), help="Busiest hour over the average hour (default 1).")
@click.option("--closed-price", metavar="USD", help="Closed API blended price per 1M tokens (default 3.00).")
@click.option("--closed-model", metavar="PROVIDER/MODEL", help="Price the closed API from the catalog instead.")
@click.option("--hosted-price", metavar="USD", help="Hosted open API blended price per 1M tokens (default 0.50).")
@click.option("--hosted-model", metavar="PROVIDER/MODEL", help="Price the hosted open API from the catalog instead.")
@click.option("--gpu-type", default="H100-80GB", show_default=True)
@click.option("--gpu-price", metavar="USD", help="Per GPU-hour (default: the gpu_prices seed).")
@click.option("--size-class", type=click.Choice(["small", "medium", "large", "xlarge"]), default="medium", show_default=True)
@click.option("--engine", default="vllm", show_default=True)
@click.option("--quantization", default="fp8", show_default=True)
@click.option("--tokens-per-second", metavar="N", help="Per-GPU throughput (default: the gpu_throughput seed).")
@click.option("--utilization", type=click.FloatRange(0, 1, min_open=True), help="Target GPU utilization (default 0.7).")
@click.option("--min-gpus", type=click.IntRange(1), help="GPUs for reliability (default 2).")
@click.option("--ops-fte", metavar="FTE", help="Ongoing ops staff (default 0.1).")
@click.option("--salary", metavar="USD", help="Loaded yearly salary of one FTE (default 150000).")
@click.option("--setup-fte", metavar="FTE", help="Setup staff (default 0.5).")
@click.option("--setup-months", type=click.IntRange(0), help="Setup length (default 3).")
@click.option("--amortize-months", type=click.IntRange(0), help="Spread setup over N months (default 12; 0 = not monthly).")
@click.option("--json", "as_json", is_flag=True, help="JSON; money as exact decimal strings.")
def breakeven(
    volumes: tuple[str, ...],
    preset: str | None,
    input_share: float | None,
    cached_share: float,
    batch_share: float,
    peak_to_mean: float | None,
    closed_price: str | None,
    closed_model: str | None,
    hosted_price: str | None,
    hosted_model: str | None,
    gpu_type: str,
    gpu_price: str | None,
    size_class: str,
    engine: str,
    quantization: str,
    tokens_per_second: str | None,
    utilization: float | None,
    min_gpus: int | None,
    ops_fte: str | None,
    salary: str | None,
    setup_fte: str | None,
    setup_months: int | None,
    amortize_months: int | None,
    as_json: bool,
) -> None:
    """What each tier costs a month at a daily token volume, and where the tiers cross.

    Uses the same SQL macros as the tier_projection mart (docs/decisions.md). `--preset article` takes the
    reference article's assumptions and prints its table at 10M, 50M, 300M and 1B tokens/day, with notes where
    the article's own figures do not follow from them.
    """
    parsed = tuple(parse_tokens(v) for v in volumes)
    base = be.article_preset(parsed) if preset == "article" else be.WhatIf(volumes=parsed)
    overrides = {
        "closed": _per_token(closed_price, closed_model, "--closed", base.closed),
        "hosted": _per_token(hosted_price, hosted_model, "--hosted", base.hosted),
        "input_share": input_share if input_share is not None else base.input_share,
        "cached_share": cached_share,
        "batch_share": batch_share,
        "peak_to_mean": peak_to_mean if peak_to_mean is not None else base.peak_to_mean,
        "gpu_type": gpu_type,
        "size_class": size_class,
        "engine": engine,
        "quantization": quantization,
    }
    optional = {
        "gpu_hourly_price": _decimal(gpu_price, "--gpu-price"),
        "tokens_per_second": _decimal(tokens_per_second, "--tokens-per-second"),
        "target_utilization": Decimal(str(utilization)) if utilization is not None else None,
        "min_gpus": min_gpus,
        "ops_fte": _decimal(ops_fte, "--ops-fte"),
        "salary": _decimal(salary, "--salary"),
        "setup_fte": _decimal(setup_fte, "--setup-fte"),
        "setup_months": setup_months,
        "amortization_months": amortize_months,
    }
    overrides.update({k: v for k, v in optional.items() if v is not None})
    what_if = be.WhatIf(**{**base.__dict__, **overrides})
    result = be.compute(what_if)
    if as_json:
        click.echo(json.dumps(be.to_json(result), indent=2))
    else:
        click.echo(be.to_text(result))


@click.command()
@click.option("--workload", help="Only this workload.")
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Hypothetical workloads in a YAML file (the config file's names); no warehouse needed.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON rows; money as exact decimal strings.")
def recommend(workload: str | None, scenario: Path | None, as_json: bool) -> None:
    """Per workload: stay or switch tiers, to which model, what it saves, and which rules decided it."""
    if scenario is not None:
        rows = from_scenario_file(scenario)
        if workload is not None:
            rows = [r for r in rows if r["workload"] == workload]
            if not rows:
                raise TierwiseError(f"no workload {workload!r} in {scenario}")
    else:
        rows = from_warehouse(warehouse_path(), workload)
    if as_json:
        click.echo(json.dumps([recommendation_json(r) for r in rows], indent=2))
    elif not rows:
        click.echo("no workloads with traffic in the window yet")
    else:
        click.echo(recommendations_text(rows))


COMMANDS: list[click.Command] = [breakeven, recommend]

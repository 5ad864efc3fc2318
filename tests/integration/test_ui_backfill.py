"""UI backfills for real: usage events through Kafka and landing, a real dagster-webserver and dagster-daemon,
partition-range backfills of the dbt marts launched over the webserver's GraphQL API, and LiteLLM price
corrections re-pricing history (by a backfill, then by the dirty-days sensor alone).

Every expected dollar is worked out here from the seed prices (USD per 1M tokens, as written in
dbt_project/seeds/model_prices.csv) and the prices the test imports; none is read back from the models.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from core.home import Home
from core.settings import Settings
from core.warehouse_lock import read_only
from pipelines.instance import REPO_DAGSTER_YAML, use_home_for_dagster
from streaming.topics import USAGE_TOPIC, dlq_for, ensure_topics
from tests.dagster_ui import VENV_BIN, DagsterUI
from tests.factories import encode, produce, usage_event

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

M = Decimal(1_000_000)
DAYS = [date(2026, 3, 9) + timedelta(days=k) for k in range(5)]  # 2026-03-09 .. 2026-03-13
GPT_FIX_FROM = date(2026, 3, 11)  # correction 1, re-priced by a UI backfill
CLAUDE_FIX_FROM = date(2026, 3, 12)  # correction 2, re-priced by the dirty-days sensor alone
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def per_m(usd_per_million: str) -> Decimal:
    return Decimal(usd_per_million) / M


# (input, output) USD per token
SEED = {"gpt-5.4": (per_m("2.50"), per_m("15.00")), "claude-sonnet-4-6": (per_m("3.00"), per_m("15.00"))}
GPT_FIX = (per_m("4.00"), per_m("20.00"))
CLAUDE_FIX = (per_m("2.00"), per_m("10.00"))


@dataclass(frozen=True)
class Request:
    event_id: str
    day: date
    provider: str
    model: str
    workload: str
    team: str
    input_tokens: int
    output_tokens: int


def requests() -> list[Request]:
    """Three requests a day, token counts varying by day so a day mix-up cannot go unnoticed."""
    out = []
    for k, day in enumerate(DAYS):
        out += [
            Request(f"{day}-agent", day, "openai", "gpt-5.4", "agent", "platform", 100_000 + 1_000 * k, 20_000),
            Request(f"{day}-search", day, "openai", "gpt-5.4", "search", "search", 40_000, 5_000 + 100 * k),
            Request(f"{day}-support", day, "anthropic", "claude-sonnet-4-6", "support", "cx", 50_000 + 500 * k, 10_000),
        ]
    return out


def price(req: Request, stage: int) -> tuple[tuple[Decimal, Decimal], str]:
    """Rates and price_source in force for a request after stage 0 (seed), 1 (gpt fix) or 2 (+ claude fix)."""
    if req.model == "gpt-5.4" and stage >= 1 and req.day >= GPT_FIX_FROM:
        return GPT_FIX, "litellm_import"
    if req.model == "claude-sonnet-4-6" and stage >= 2 and req.day >= CLAUDE_FIX_FROM:
        return CLAUDE_FIX, "litellm_import"
    return SEED[req.model], "seed"


def cost(req: Request, stage: int) -> Decimal:
    (rate_in, rate_out), _ = price(req, stage)
    return req.input_tokens * rate_in + req.output_tokens * rate_out


# --- the stack ---------------------------------------------------------------------------------


def tierwise_env(home: Home) -> dict[str, str]:
    """What the subprocesses inherit: this test's home and warehouse, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "TIERWISE_TOPIC_PREFIX"}}
    env.update(
        TIERWISE_HOME=str(home.root),
        TIERWISE_WAREHOUSE=str(home.warehouse),
        DAGSTER_HOME=str(home.dagster),
        TIERWISE_PARTITIONS_START="2026-01-01",
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # No KAFKA_BOOTSTRAP_SERVERS and no broker in this home: the lag sensor skips instead of landing behind
    # the test's back, so every run the daemon makes is one the test asked for.
    return env


def tierwise_cli(home: Home, *args: str, extra_env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(VENV_BIN / "tierwise"), *args],
        env={**tierwise_env(home), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"tierwise {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def query(home: Home, sql: str) -> list[tuple[Any, ...]]:
    with read_only(home.warehouse, timeout_s=60) as con:  # a finished run may still be closing the file
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Home:
    """A home whose warehouse holds the requests, produced to Kafka and landed by `tierwise land`."""
    home = Home(tmp_path_factory.mktemp("ui-backfill") / "home").ensure()
    topic = f"t{uuid.uuid4().hex[:8]}.{USAGE_TOPIC}"
    ensure_topics(kafka_bootstrap, partitions=3, topics=(topic, dlq_for(topic)))
    events = [
        usage_event(
            n,
            event_id=r.event_id,
            event_time=f"{r.day.isoformat()}T{10 + n % 3:02d}:00:00+00:00",
            provider=r.provider,
            model=r.model,
            workload=r.workload,
            team=r.team,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
        )
        for n, r in enumerate(requests())
    ]
    produce(kafka_bootstrap, topic, [encode(e) for e in events])
    out = tierwise_cli(home, "land", "--topic", topic, extra_env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    assert f"{topic}: landed 15, duplicates dropped 0, rejected 0" in out
    return home


@pytest.fixture(scope="module")
def ui(home: Home) -> Iterator[DagsterUI]:
    env = tierwise_env(home)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("TIERWISE_HOME", "TIERWISE_WAREHOUSE", "DAGSTER_HOME"):
            mp.setenv(name, env[name])
        from pipelines.defs.dbt.project import prepare_manifest

        # Parse once here, so the two code servers never run `dbt parse` at the same time.
        prepare_manifest()
        use_home_for_dagster(Settings.from_env())  # DAGSTER_HOME=$TIERWISE_HOME/dagster with the repo's dagster.yaml
    assert (home.dagster / "dagster.yaml").read_text() == REPO_DAGSTER_YAML.read_text()
    stack = DagsterUI(home, env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def backfill_marts(ui: DagsterUI, title: str) -> None:
    """Materialize every partitioned dbt asset for the whole range, as one backfill launched over GraphQL."""
    keys = ui.partitioned_assets_of("tierwise_dbt")
    assert ["spend_daily"] in keys and ["priced_requests"] in keys and ["spend_monthly"] in keys
    backfill_id = ui.launch_backfill(keys, DAYS[0], DAYS[-1], title)
    ui.wait_for_backfill(backfill_id)
    runs = ui.runs({"dagster/backfill": backfill_id})
    # single-run backfill policy: the whole range is one run, hence one dbt build
    assert [(r["status"], [r["tags"].get(t) for t in RANGE_TAGS]) for r in runs] == [
        ("SUCCESS", [DAYS[0].isoformat(), DAYS[-1].isoformat()])
    ], runs


def dirty_marks(home: Home) -> list[tuple[str, date]]:
    return [(s, d) for s, d in query(home, "select source, event_date from raw.dirty_days order by event_date, source")]


def import_prices(home: Home, tmp: Path, entries: dict[str, Any], effective_from: date) -> str:
    """A user's correction: a LiteLLM-format file imported with the CLI."""
    path = tmp / f"litellm-{effective_from}.json"
    path.write_text(json.dumps({"sample_spec": {"mode": "one of: chat, embedding"}, **entries}))
    return tierwise_cli(home, "prices", "import", "litellm", str(path), "--effective-from", effective_from.isoformat())


def assert_marts(home: Home, stage: int) -> None:
    reqs = requests()
    # counts first: a rebuild that duplicated rows would hide behind the dicts below
    assert query(home, "select count(*), sum(requests) from spend_daily") == [(15, 15)]
    assert query(home, "select count(*), count(distinct event_id) from priced_requests") == [(15, 15)]
    assert query(home, "select count(*), sum(requests) from spend_monthly") == [(3, 15)]
    daily = {
        (d, w): (m, n, c) for d, w, m, n, c in query(home, "select day, workload, model, requests, cost_usd from spend_daily")
    }
    assert daily == {(r.day, r.workload): (r.model, 1, cost(r, stage)) for r in reqs}
    by_request = {e: (c, s) for e, c, s in query(home, "select event_id, token_cost_usd, price_source from priced_requests")}
    assert by_request == {r.event_id: (cost(r, stage), price(r, stage)[1]) for r in reqs}
    monthly = dict(query(home, "select workload, cost_usd from spend_monthly where month = date '2026-03-01'"))
    expected_monthly: dict[str, Decimal] = {}
    for r in reqs:
        expected_monthly[r.workload] = expected_monthly.get(r.workload, Decimal(0)) + cost(r, stage)
    assert monthly == expected_monthly
    assert query(home, "select count(*) from spend_daily where day not between date '2026-03-09' and date '2026-03-13'") == [
        (0,)
    ]


# --- the scenario ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_backfill(home: Home, ui: DagsterUI) -> list[tuple[str, date]]:
    """Backfill the marts from the UI; returns the dirty marks landing left for it to clear."""
    marks = dirty_marks(home)
    # The seeds and staging views are not partitioned: an operator builds them once, with their own job.
    base_run = ui.launch_job("dbt_base_job")
    assert ui.wait_for_run(base_run, "the seeds and staging build") == "SUCCESS"
    backfill_marts(ui, "first build of March 9-13")
    return marks


@dataclass(frozen=True)
class Corrected:
    printed: str
    marks: list[tuple[str, date]]


@pytest.fixture(scope="module")
def gpt_corrected(
    home: Home, ui: DagsterUI, first_backfill: list[tuple[str, date]], tmp_path_factory: pytest.TempPathFactory
) -> Corrected:
    """gpt-5.4 re-priced from March 11th, then the range backfilled again from the UI (the sensor switched off,
    so the backfill alone must do the re-pricing)."""
    assert ui.set_sensor("dirty_days_sensor", running=False) == "STOPPED"
    gpt = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05}
    printed = import_prices(home, tmp_path_factory.mktemp("prices"), {"gpt-5.4": gpt}, GPT_FIX_FROM)
    marks = dirty_marks(home)
    backfill_marts(ui, "re-price March 9-13")
    return Corrected(printed, marks)


def test_backfill_launched_over_graphql_builds_exact_marts(home: Home, first_backfill: list[tuple[str, date]]) -> None:
    topic_marks = {d for _, d in first_backfill}
    assert topic_marks == set(DAYS)  # landing marked every day it wrote...
    assert dirty_marks(home) == []  # ...and the backfill's run cleared them
    assert_marts(home, stage=0)
    # one request spelled out in plain dollars: 100k x $2.50/M + 20k x $15/M
    assert query(home, "select cost_usd from spend_daily where day = date '2026-03-09' and workload = 'agent'") == [
        (Decimal("0.55"),)
    ]
    assert query(home, "select sum(cost_usd) from spend_daily") == [(sum((cost(r, 0) for r in requests()), Decimal(0)),)]


def test_price_correction_then_backfill_reprices_from_the_effective_day_only(home: Home, gpt_corrected: Corrected) -> None:
    assert "imported 1 prices effective 2026-03-11" in gpt_corrected.printed
    assert "marked 3 days for re-pricing from 2026-03-11 to 2026-03-13" in gpt_corrected.printed
    assert gpt_corrected.marks == [("prices", d) for d in DAYS[2:]]
    assert dirty_marks(home) == []  # the backfill cleared the price marks too
    assert_marts(home, stage=1)
    # to the cent, spelled out: March 10th keeps the seed, March 11th pays the import
    agent = "select day, cost_usd from spend_daily where workload = 'agent' and day in ('2026-03-10', '2026-03-11')"
    assert sorted(query(home, agent)) == [
        (date(2026, 3, 10), Decimal("0.5525")),  # 101k x $2.50/M + 20k x $15/M
        (date(2026, 3, 11), Decimal("0.808")),  # 102k x $4/M + 20k x $20/M
    ]


def test_report_backfill_after_the_correction_shows_the_corrected_prices(
    home: Home, ui: DagsterUI, gpt_corrected: Corrected
) -> None:
    """The weekly report of the corrected week, rebuilt by a backfill of its weekly partition from the UI."""
    week = "2026-W11"  # Monday 2026-03-09: the partition key of the week that holds the five days
    backfill_id = ui.launch_backfill([["weekly_report"]], DAYS[0], DAYS[0], f"report of {week} after the correction")
    ui.wait_for_backfill(backfill_id)
    runs = ui.runs({"dagster/backfill": backfill_id})
    assert [(r["jobName"], r["status"], r["tags"].get("dagster/partition")) for r in runs] == [
        ("__ASSET_JOB", "SUCCESS", "2026-03-09")
    ], runs
    md = (home.reports / f"tierwise-report-{week}.md").read_text()
    summary = next(line for line in md.splitlines() if line.startswith("| $"))
    total = sum((cost(r, 1) for r in requests()), Decimal(0))  # the five days at the corrected gpt-5.4 price
    assert summary.split(" | ")[0] == f"| ${total.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    assert total != sum((cost(r, 0) for r in requests()), Decimal(0))  # the correction changed the week's total


def test_price_import_alone_gets_history_repriced_by_the_dirty_days_sensor(
    home: Home, ui: DagsterUI, gpt_corrected: Corrected, tmp_path_factory: pytest.TempPathFactory
) -> None:
    claude = {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": "2e-06", "output_cost_per_token": 1e-05}
    printed = import_prices(home, tmp_path_factory.mktemp("prices"), {"claude-sonnet-4-6": claude}, CLAUDE_FIX_FROM)
    assert "marked 2 days for re-pricing from 2026-03-12 to 2026-03-13" in printed
    assert f"the dirty-days sensor of {home.dagster} rebuilds them" in printed
    assert dirty_marks(home) == [("prices", d) for d in DAYS[3:]]
    assert ui.runs({"dagster/sensor_name": "dirty_days_sensor"}) == []
    # No backfill: switching the sensor back on is all the user does.
    assert ui.set_sensor("dirty_days_sensor", running=True) == "RUNNING"
    runs = ui.wait_for_runs({"dagster/sensor_name": "dirty_days_sensor"}, "the dirty-days sensor's dbt run")
    assert [(r["jobName"], r["status"], [r["tags"].get(t) for t in RANGE_TAGS]) for r in runs] == [
        ("dbt_job", "SUCCESS", ["2026-03-12", "2026-03-13"])
    ], runs
    assert dirty_marks(home) == []
    assert_marts(home, stage=2)  # gpt keeps the March 11th import; claude changes from March 12th only
    support = "select day, cost_usd from spend_daily where workload = 'support' and day in ('2026-03-11', '2026-03-12')"
    assert sorted(query(home, support)) == [
        (date(2026, 3, 11), Decimal("0.3030")),  # 51k x $3/M + 10k x $15/M
        (date(2026, 3, 12), Decimal("0.2030")),  # 51.5k x $2/M + 10k x $10/M
    ]

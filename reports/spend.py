"""The query behind `tierwise spend`: spend_daily rolled up by the keys the user asks for.

It reads the mart dbt built and never recomputes a cost; the warehouse is opened read-only so a
running pipeline (the single writer) is never blocked by a reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.errors import TierwiseError
from core.warehouse_lock import read_only

# --by key -> SQL expression over main.spend_daily
GROUP_KEYS: dict[str, str] = {
    "workload": "workload",
    "team": "team",
    "tier": "tier",
    "provider": "provider",
    "model": "model",
    "day": "day",
    "month": "month",
}
TOKEN_COLUMNS = (
    "tokens_input",
    "tokens_cache_read",
    "tokens_cache_creation",
    "tokens_output",
    "tokens_reasoning",
    "tokens_total",
)
COUNT_COLUMNS = ("requests", "error_requests", "unpriced_requests", *TOKEN_COLUMNS)
MONEY_COLUMNS = ("token_cost_usd", "gpu_cost_usd", "ops_cost_usd", "cost_usd")


def require_table(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?",
        [table],
    ).fetchone()
    if not found or not found[0]:
        raise TierwiseError(f"{path} has no {table} yet: run `tierwise run` first")


def day_range(column: str, date_from: date | None, date_to: date | None) -> tuple[str, list[date]]:
    """A ` where` clause keeping `column` in [date_from, date_to) (either bound optional; '' with neither)
    and its parameters. The CLI's --from is inclusive and --to exclusive."""
    if date_from and date_to and date_to <= date_from:
        raise TierwiseError(f"--to {date_to} must be after --from {date_from} (--to is exclusive)")
    where, params = [], []
    if date_from is not None:
        where.append(f"{column} >= ?")
        params.append(date_from)
    if date_to is not None:
        where.append(f"{column} < ?")
        params.append(date_to)
    return (f" where {' and '.join(where)}" if where else ""), params


def parse_by(text: str) -> list[str]:
    keys = [k.strip().lower() for k in text.split(",") if k.strip()]
    allowed = ", ".join(GROUP_KEYS)
    if not keys:
        raise TierwiseError(f"--by needs at least one of: {allowed}")
    for key in keys:
        if key not in GROUP_KEYS:
            raise TierwiseError(f"--by {key!r} is not a spend key; use any of: {allowed}")
    if len(set(keys)) != len(keys):
        raise TierwiseError(f"--by {text!r} names a key twice")
    return keys


@dataclass(frozen=True)
class SpendQuery:
    by: Sequence[str]
    date_from: date | None = None  # inclusive
    date_to: date | None = None  # exclusive
    filters: tuple[tuple[str, str], ...] = ()  # (key, value): only rows where GROUP_KEYS[key] = value

    def sql(self) -> tuple[str, list[Any]]:
        keys = [f"{GROUP_KEYS[k]} as {k}" for k in self.by]
        counts = [f"cast(sum({c}) as bigint) as {c}" for c in COUNT_COLUMNS]
        money = [f"cast(sum({c}) as decimal(38, 12)) as {c}" for c in MONEY_COLUMNS]
        where, days = day_range("day", self.date_from, self.date_to)
        params: list[Any] = [*days]
        for key, value in self.filters:
            where += f"{' and' if where else ' where'} {GROUP_KEYS[key]} = ?"  # a KeyError: a key the caller made up
            params.append(value)
        positions = ", ".join(str(i + 1) for i in range(len(self.by)))
        sql = (
            f"select {', '.join(keys + counts + money)} from main.spend_daily{where}"
            f" group by {positions} order by {positions} nulls first"
        )
        return sql, params


def query_spend(path: Path, query: SpendQuery) -> list[dict[str, Any]]:
    """Rows of {key..., counts..., money...}; money stays Decimal, NULL cost stays None (unpriced)."""
    query.sql()  # checks the day range before the warehouse is opened
    with read_only(path) as con:
        require_table(con, "spend_daily", path)
        return run_spend(con, query)


def run_spend(con: duckdb.DuckDBPyConnection, query: SpendQuery) -> list[dict[str, Any]]:
    """query_spend on a connection the caller holds (a page or a report runs several queries on one)."""
    sql, params = query.sql()
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def exact(value: Decimal | None) -> str | None:
    """Money as the exact decimal text (never exponent notation), None stays None."""
    return None if value is None else format(value, "f")


def to_json_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key in MONEY_COLUMNS:
                item[key] = exact(value)
            elif isinstance(value, date):
                item[key] = value.isoformat()
            else:
                item[key] = value
        out.append(item)
    return out

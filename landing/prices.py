"""Import token prices from LiteLLM's model_prices_and_context_window.json into the warehouse.

Rules (docs/costs.md):
- Only entries whose `mode` is chat, completion, responses or embedding are imported (an embedding
  without an output price gets 0: it has no output tokens); everything else (the
  `sample_spec` key, images, audio, entries without a mode, without a provider, without
  per-token input/output prices, with malformed prices) is skipped and counted by reason.
- A key `P/M` whose `litellm_provider` is `P` prices model `M`; any other key prices the whole key as a
  model. The split compares the key with LiteLLM's own provider id, before it is renamed.
- The provider is tierwise's name for the `litellm_provider`, through the adapters' alias map
  (`together_ai` -> `together`, `gemini` -> `google`), so imported rows price the events the adapters
  write; a provider the map does not know is kept, trimmed and lower-cased (`canonical_provider`).
- Besides the base rates: batch rates (cache reads and writes too), priority and flex rates, the 1-hour
  cache-write rate and the first long-context tier (`*_above_<N>k_tokens`, with N x 1000 as threshold).
- Prices are USD per token, parsed as Decimal from their text (never through float arithmetic) and kept
  only when exact at DECIMAL(38,12).
- Rows land in raw.imported_prices with valid_from = the --effective-from date and no valid_to.
  stg_model_prices merges them with the model_prices seed: the latest valid_from wins, the seed wins ties.
  Importing again for the same date replaces that date's rows.
- In the same transaction, the landed days from the effective date on are marked dirty (source `prices`),
  so the dirty-days sensor and `tierwise run` rebuild them at the new prices.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from core.errors import TierwiseError
from landing.dirty_days import mark_repricing
from landing.warehouse import create_raw_tables

TABLE = "raw.imported_prices"
IMPORTED_MODES = frozenset({"chat", "completion", "responses", "embedding"})
# Embeddings are billed for input tokens only: an entry without an output price has none to charge.
INPUT_ONLY_MODES = frozenset({"embedding"})
SAMPLE_KEY = "sample_spec"
MONEY_QUANTUM = Decimal("1e-12")  # DECIMAL(38, 12): 12 decimals...
MONEY_LIMIT = Decimal(10) ** 26  # ...and 26 integer digits
_WIDE = Context(prec=80)  # enough digits to quantize any DECIMAL(38, 12) value exactly

# LiteLLM key -> tierwise price column (USD per token).
PRICE_FIELDS: dict[str, str] = {
    "input_cost_per_token": "input_cost_per_token",
    "cache_read_input_token_cost": "cache_read_cost_per_token",
    "cache_creation_input_token_cost": "cache_creation_cost_per_token",
    "output_cost_per_token": "output_cost_per_token",
    "output_cost_per_reasoning_token": "reasoning_cost_per_token",
    "input_cost_per_token_batches": "batch_input_cost_per_token",
    "output_cost_per_token_batches": "batch_output_cost_per_token",
    # The batch discount stacks with prompt caching: batch cache reads and writes have their own rates.
    "cache_read_input_token_cost_batches": "batch_cache_read_cost_per_token",
    "cache_creation_input_token_cost_batches": "batch_cache_creation_cost_per_token",
    "cache_creation_input_token_cost_above_1hr": "cache_creation_1h_cost_per_token",
    "input_cost_per_token_priority": "priority_input_cost_per_token",
    "output_cost_per_token_priority": "priority_output_cost_per_token",
    "cache_read_input_token_cost_priority": "priority_cache_read_cost_per_token",
    "input_cost_per_token_flex": "flex_input_cost_per_token",
    "output_cost_per_token_flex": "flex_output_cost_per_token",
    "cache_read_input_token_cost_flex": "flex_cache_read_cost_per_token",
}
# Long-context rates, `<base>_above_<N>k_tokens`: the whole request pays them once its prompt exceeds N x 1000.
LONG_CONTEXT_FIELDS: dict[str, str] = {
    "input_cost_per_token": "long_input_cost_per_token",
    "output_cost_per_token": "long_output_cost_per_token",
    "cache_read_input_token_cost": "long_cache_read_cost_per_token",
    "cache_creation_input_token_cost": "long_cache_creation_cost_per_token",
}
LONG_CONTEXT_KEY = re.compile(r"^(?P<base>[a-z_]+?)_above_(?P<k>[0-9]+)k_tokens$")
THRESHOLD_COLUMN = "long_context_threshold_tokens"
# Every price column of raw.imported_prices, in table order (the threshold is a token count, not a price).
PRICE_COLUMNS: tuple[str, ...] = (*PRICE_FIELDS.values(), THRESHOLD_COLUMN, *LONG_CONTEXT_FIELDS.values())
REQUIRED_FIELDS = ("input_cost_per_token", "output_cost_per_token")


class BadPrice(ValueError):
    """A cost value that is not a finite, non-negative number exact at 1e-12."""


@dataclass(frozen=True)
class ImportedPrice:
    provider: str  # tierwise's name for litellm_provider
    model: str
    litellm_provider: str  # as the file spells it
    source_key: str
    mode: str
    prices: dict[str, Decimal | int | None]  # tierwise column -> USD per token (the threshold in tokens)


@dataclass
class ParseResult:
    prices: list[ImportedPrice] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip_reasons(self) -> str:
        """'4 not_chat, 1 sample_spec', by reason name; empty when nothing was skipped."""
        return ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))


def to_price(value: Any) -> Decimal:
    """A LiteLLM cost value as an exact Decimal; floats go through their text, never float math."""
    if isinstance(value, bool):  # bool is an int subclass; `true` is not a price
        raise BadPrice(f"{value!r} is not a number")
    try:
        if isinstance(value, Decimal):
            price = value
        elif isinstance(value, int | float):
            price = Decimal(str(value))
        elif isinstance(value, str):
            price = Decimal(value.strip())
        else:
            raise BadPrice(f"{value!r} is not a number")
    except InvalidOperation as exc:
        raise BadPrice(f"{value!r} is not a number") from exc
    if not price.is_finite() or price < 0 or price >= MONEY_LIMIT:
        raise BadPrice(f"{value!r} is not a finite non-negative price")
    if price.quantize(MONEY_QUANTUM, context=_WIDE) != price:
        # rounding a price silently would mis-state every request priced with it
        raise BadPrice(f"{value!r} is finer than 1e-12 USD")
    return price


def long_context_prices(entry: Mapping[str, Any]) -> dict[str, Decimal | int | None]:
    """The threshold and rates of the entry's first long-context tier (`*_above_<N>k_tokens`).

    An entry may list several thresholds (above 128k and above 256k); tierwise carries the lowest, the one
    every long request pays at least, and documents that a second tier is not modelled (docs/costs.md).
    Variants of a long rate for a service tier or batch (`..._above_272k_tokens_priority`) do not match
    the pattern and are not imported.
    """
    tiers: dict[int, dict[str, Decimal]] = {}
    for key, raw in entry.items():
        match = LONG_CONTEXT_KEY.match(str(key))
        if match is None or match["base"] not in LONG_CONTEXT_FIELDS or raw is None:
            continue
        tiers.setdefault(int(match["k"]) * 1000, {})[LONG_CONTEXT_FIELDS[match["base"]]] = to_price(raw)
    out: dict[str, Decimal | int | None] = {THRESHOLD_COLUMN: None, **dict.fromkeys(LONG_CONTEXT_FIELDS.values())}
    if tiers:
        threshold = min(tiers)
        out[THRESHOLD_COLUMN] = threshold
        out.update(tiers[threshold])
    return out


def split_key(key: str, provider: str) -> str:
    """The model id a LiteLLM key prices: `P/M` of provider P is M; any other key is itself.

    ``provider`` is LiteLLM's own spelling (`together_ai`), never tierwise's: keys carry LiteLLM's prefix.
    """
    prefix, sep, rest = key.partition("/")
    if sep and prefix == provider and rest:
        return rest
    return key


def parse_entry(key: str, entry: Any) -> ImportedPrice | str:
    """One LiteLLM entry as a price, or the reason it is skipped."""
    # Imported here: the adapters package loads pydantic and the contracts, which every CLI command
    # would pay for at start-up (this module is imported by the CLI); after the first call it is a lookup.
    from schemas.providers import canonical_provider

    if key == SAMPLE_KEY:
        return "sample_spec"
    if not isinstance(entry, Mapping):
        return "not_an_object"
    mode = entry.get("mode")
    if not isinstance(mode, str) or not mode:
        return "no_mode"
    if mode not in IMPORTED_MODES:
        return "not_chat"
    provider = entry.get("litellm_provider")
    if not isinstance(provider, str) or not provider.strip():
        return "no_provider"
    litellm_provider = provider.strip()
    required = ("input_cost_per_token",) if mode in INPUT_ONLY_MODES else REQUIRED_FIELDS
    if any(entry.get(name) is None for name in required):
        return "no_token_price"
    prices: dict[str, Decimal | int | None] = {}
    try:
        for litellm_name, column in PRICE_FIELDS.items():
            raw = entry.get(litellm_name)
            prices[column] = None if raw is None else to_price(raw)
        if prices["output_cost_per_token"] is None:  # an embedding: no output tokens to price
            prices["output_cost_per_token"] = Decimal(0)
        prices.update(long_context_prices(entry))
    except BadPrice:
        return "bad_price"
    return ImportedPrice(
        provider=canonical_provider(litellm_provider),
        model=split_key(key, litellm_provider),  # the key's prefix is LiteLLM's spelling, not tierwise's
        litellm_provider=litellm_provider,
        source_key=key,
        mode=mode,
        prices=prices,
    )


def parse_litellm(data: Any) -> ParseResult:
    """Parse the whole LiteLLM document; the first key wins when two keys price the same model.

    Same model means same tierwise provider and model id, so two LiteLLM providers that are one provider
    to tierwise (`gemini` and `vertex_ai`) cannot both price a model: the later key counts as a duplicate.
    """
    if not isinstance(data, Mapping):
        raise TierwiseError("a LiteLLM price file is a JSON object of model entries")
    result = ParseResult()
    seen: set[tuple[str, str]] = set()
    for key, entry in data.items():
        parsed = parse_entry(str(key), entry)
        if isinstance(parsed, str):
            result.skipped[parsed] += 1
            continue
        ident = (parsed.provider, parsed.model)
        if ident in seen:
            result.skipped["duplicate"] += 1
            continue
        seen.add(ident)
        result.prices.append(parsed)
    return result


def load_litellm_file(path: Path) -> ParseResult:
    """Read and parse a LiteLLM JSON file; JSON numbers become Decimals straight from their text."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TierwiseError(f"no such price file: {path}") from exc
    except OSError as exc:
        raise TierwiseError(f"cannot read price file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise TierwiseError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    return parse_litellm(data)


def _sql_text(value: Decimal | int | None) -> str | None:
    """A price (or threshold) as text, so the SQL cast reads the exact digits."""
    if value is None:
        return None
    return str(value) if isinstance(value, int) else format(value, "f")


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)  # the raw tables include imported_prices (landing/warehouse.py)


@dataclass(frozen=True)
class WriteResult:
    imported: int
    repriced_days: list[date]  # marked dirty, waiting for a rebuild at the new prices
    removed: list[tuple[str, str]] = field(default_factory=list)  # (provider, model) no longer priced that day


def describe_models(models: list[tuple[str, str]], limit: int = 8) -> str:
    """'openai/gpt-5.4, google/gemini-3.1-pro and 12 more'."""
    names = [f"{p}/{m}" for p, m in models]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def write_imported_prices(
    con: duckdb.DuckDBPyConnection,
    result: ParseResult,
    effective_from: date,
    source_file: str | None,
    at: datetime | None = None,
    *,
    replace: bool = False,
) -> WriteResult:
    """Replace the rows imported for `effective_from` with `result` and mark the days to re-price, in one transaction.

    An import of nothing is an error, and so is one that would drop a model priced at that date before,
    unless `replace`: a price list that lost entries must not silently unprice usage.
    `at` (naive UTC, default now) is when the days are marked: a dbt build that starts later clears them.
    """
    if not result.prices:
        reasons = result.skip_reasons()
        raise TierwiseError(
            f"no usable price in the file ({result.skipped_total} entries skipped{': ' + reasons if reasons else ''}): "
            "nothing imported"
        )
    at = at or datetime.now(UTC).replace(tzinfo=None)
    ensure_table(con)
    valid_from = datetime(effective_from.year, effective_from.month, effective_from.day)
    columns = list(PRICE_COLUMNS)
    casts = ", ".join("CAST(? AS BIGINT)" if c == THRESHOLD_COLUMN else "CAST(? AS DECIMAL(38, 12))" for c in columns)
    sql = (
        f"INSERT INTO {TABLE} (provider, model, valid_from, valid_to, {', '.join(columns)}, "
        f"source_key, litellm_mode, source_file, imported_at) "
        f"VALUES (?, ?, ?, NULL, {casts}, "
        f"?, ?, ?, now()::TIMESTAMP)"
    )
    con.execute("BEGIN TRANSACTION")
    try:
        before = con.execute(f"SELECT provider, model FROM {TABLE} WHERE valid_from = ?", [valid_from]).fetchall()
        removed = sorted(set(before) - {(p.provider, p.model) for p in result.prices})
        if removed and not replace:
            raise TierwiseError(
                f"the import would remove {len(removed)} price(s) imported for {effective_from.isoformat()}: "
                f"{describe_models(removed)}; pass --replace to remove them"
            )
        repriced = mark_repricing(con, effective_from, at)
        con.execute(f"DELETE FROM {TABLE} WHERE valid_from = ?", [valid_from])
        rows = [
            [
                p.provider,
                p.model,
                valid_from,
                # bound as text so the DECIMAL cast reads the exact digits
                *[_sql_text(p.prices[c]) for c in columns],
                p.source_key,
                p.mode,
                source_file,
            ]
            for p in result.prices
        ]
        if rows:
            con.executemany(sql, rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return WriteResult(imported=len(result.prices), repriced_days=repriced, removed=removed)

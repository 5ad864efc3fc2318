"""Columnar validation of a batch of raw events, compiled from the contract.

Validating event by event with pydantic costs about 6 µs of Python time per event, more than the
Kafka consumer itself. Here a whole batch is checked at once: polars parses the JSON lines into typed
columns (with an explicit schema from the contract), and polars expressions compiled from the
contract's JSON Schema (types, bounds, enums, patterns, defaults) and its cross-field rules
(``schemas.rules``) check and convert every row, outside the GIL.

The check is deliberately conservative. It accepts a row only when it can show that pydantic would
accept it and build the same row; every other row goes to pydantic one by one, which stays the one
authority on what is valid and gives the precise rejection reason. What polars cannot tell
(a key it does not know, a number where a string belongs, an explicit null, a repeated key) is
recovered by counting, on raw text that holds no backslash (so every quote delimits a string):

- ``"key":`` occurrences must equal the fields polars found + the tag keys + the explicit nulls;
- ``"key":"`` occurrences (string values) must equal the string fields found + the tag keys;
- every explicit null must belong to a nullable field, and a row with one may not repeat a key.

A differential test feeds both paths the same mutated events and requires identical results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel

from schemas import CONTENT_KEYS, CONTENT_PREFIXES

Kind = Literal["string", "integer", "number", "boolean", "datetime", "string_map", "unsupported"]

# RFC 3339 as pydantic certainly reads it: calendar-valid ranges are left to the parse, hour 24 and
# leap seconds (which polars and pydantic treat differently) are excluded here.
RFC3339 = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
# After `": ` is folded into `":` (see `parse_chunk`), these literal patterns count keys, string
# values and nulls exactly: with no backslash in the text, a quote followed by a colon ends a key.
KEY = '":'
STRING_VALUE = '":"'
NULL_VALUE = '":null'
KEY_NAME = r'"([^"]*)":'
# Spacing the counts would miss: rows containing any of these take the slow path.
ODD_SPACING = ('" :', '"\t:', '":  ', '":\t', '": \t')

POLARS_TYPES: dict[Kind, Any] = {
    "string": pl.String,
    "datetime": pl.String,
    "string_map": pl.String,
    "unsupported": pl.String,
    "integer": pl.Int64,
    "number": pl.Float64,
    "boolean": pl.Boolean,
}


@dataclass(frozen=True)
class FieldSpec:
    """One contract field as the compiled check sees it."""

    name: str
    kind: Kind
    required: bool
    nullable: bool
    default: Any = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    max_properties: int | None = None
    key_max_length: int | None = None


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[-1]]
        return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def field_specs(model: type[BaseModel]) -> list[FieldSpec]:
    """The fields of a contract, read from its JSON Schema (the same schema producers get)."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    specs = []
    for name, raw in schema["properties"].items():
        prop = _resolve(raw, defs)
        nullable = False
        options = [prop]
        if "anyOf" in prop:
            options = [_resolve(o, defs) for o in prop["anyOf"] if o.get("type") != "null"]
            nullable = len(options) < len(prop["anyOf"])
        kind: Kind = "unsupported"
        opt = options[0] if len(options) == 1 else {}
        typ = opt.get("type")
        if typ == "string":
            kind = "datetime" if opt.get("format") == "date-time" else "string"
            if opt.get("format") not in (None, "date-time"):
                kind = "unsupported"
        elif typ in ("integer", "number", "boolean"):
            kind = typ
        elif typ == "object" and opt.get("additionalProperties", {}).get("type") == "string":
            kind = "string_map"
        values = opt.get("additionalProperties", {}) if kind == "string_map" else opt
        specs.append(
            FieldSpec(
                name=name,
                kind=kind,
                required=name in required,
                nullable=nullable,
                default=prop.get("default"),
                min_length=values.get("minLength"),
                max_length=values.get("maxLength"),
                minimum=opt.get("minimum"),
                maximum=opt.get("maximum"),
                enum=tuple(opt["enum"]) if "enum" in opt else None,
                pattern=opt.get("pattern"),
                max_properties=opt.get("maxProperties"),
                key_max_length=opt.get("propertyNames", {}).get("maxLength"),
            )
        )
    return specs


def _string_checks(spec: FieldSpec, r: pl.Expr) -> list[pl.Expr]:
    # Bytes, never fewer than pydantic's characters: a bound they pass, pydantic passes.
    checks = []
    if spec.min_length:
        checks.append(r.str.len_bytes() >= spec.min_length)
    if spec.max_length is not None:
        checks.append(r.str.len_bytes() <= spec.max_length)
    if spec.enum is not None:
        checks.append(r.is_in(list(spec.enum)))
    if spec.pattern is not None:  # pydantic-core matches patterns with the same Rust regex engine
        checks.append(r.str.contains(spec.pattern))
    return checks


def _bounds(spec: FieldSpec, r: pl.Expr) -> list[pl.Expr]:
    out = [r >= spec.minimum] if spec.minimum is not None else []
    if spec.maximum is not None:
        out.append(r <= spec.maximum)
    return out


def _utc(r: pl.Expr) -> pl.Expr:
    """UTC (naive) of an RFC 3339 text, null unless it matches RFC3339."""
    zulu = r.str.ends_with("Z")
    local = pl.when(zulu).then(r.str.head(-1)).otherwise(r.str.head(-6))
    parsed = local.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False, cache=False)
    offset = r.str.tail(6)
    minutes = offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + offset.str.slice(4, 2).cast(pl.Int64, strict=False)
    signed = pl.when(zulu).then(0).when(offset.str.starts_with("-")).then(-minutes).otherwise(minutes)
    return pl.when(r.str.contains(RFC3339)).then(parsed - pl.duration(minutes=signed))


def _all(items: pl.Expr, predicate: pl.Expr) -> pl.Expr:
    """`predicate` (over pl.element()) holds for every element of the list `items` (true when empty)."""
    return items.list.eval(predicate).list.all()


@dataclass(frozen=True)
class _Compiled:
    typed: dict[str, pl.Expr]  # output column(s) of the field
    valid: pl.Expr  # the field is valid when present; may use the typed output columns


def _compile_field(spec: FieldSpec) -> _Compiled:
    r = pl.col(f"r_{spec.name}")
    name = spec.name
    if spec.kind == "string":
        return _Compiled({name: r}, pl.all_horizontal(_string_checks(spec, r) or [pl.lit(True)]))
    if spec.kind == "datetime":
        return _Compiled({name: _utc(r)}, pl.col(name).is_not_null())  # the typed value, parsed once
    if spec.kind in ("integer", "number", "boolean"):
        checks = [r.is_finite()] if spec.kind == "number" else []
        return _Compiled({name: r}, pl.all_horizontal([*checks, *_bounds(spec, r)] or [pl.lit(True)]))
    if spec.kind == "string_map":
        # polars re-serializes an object read into a String column as {"k": "v", ...}; with no
        # backslash in the raw text no key or value holds a quote, so both can be cut out by pattern.
        # They are cut once, into the output columns, which the checks below then read.
        typed = {
            f"{name}__keys": r.str.extract_all(r'"[^"]*": ').list.eval(pl.element().str.slice(1).str.head(-3)),
            f"{name}__values": r.str.extract_all(r': "[^"]*"').list.eval(pl.element().str.slice(3).str.head(-1)),
        }
        keys, values = pl.col(f"{name}__keys"), pl.col(f"{name}__values")
        lowered = pl.element().str.to_lowercase()
        content = lowered.is_in(sorted(CONTENT_KEYS))
        for prefix in CONTENT_PREFIXES:
            content = content | lowered.str.starts_with(prefix)
        checks = [
            r.str.starts_with("{"),
            keys.list.n_unique() == keys.list.len(),
            _all(keys, ~pl.element().str.contains(r"[^ -~]")),  # ASCII: lower() and lengths agree with Python
            _all(keys, pl.element().str.len_bytes() >= 1),
            _all(keys, ~content),
        ]
        if spec.max_properties is not None:
            checks.append(keys.list.len() <= spec.max_properties)
        if spec.key_max_length is not None:
            checks.append(_all(keys, pl.element().str.len_bytes() <= spec.key_max_length))
        if spec.max_length is not None:
            checks.append(_all(values, pl.element().str.len_bytes() <= spec.max_length))
        return _Compiled(typed, pl.all_horizontal(checks))
    # A shape this compiler does not know: pydantic decides every row that carries the field.
    return _Compiled({name: pl.lit(None)}, pl.lit(False))


@dataclass(frozen=True)
class ColumnarCheck:
    """The compiled check of one contract.

    `schema` is what polars parses the JSON lines with. `apply` takes the parsed r_* columns plus the
    per-row counts and i, kafka_partition, kafka_offset, and returns every row with `ok` and the output
    columns (valid only where ok). A mapping field travels as two list columns, <name>__keys and
    <name>__values, until `projection` turns them into a MAP in DuckDB.
    """

    schema: dict[str, Any]
    nullable: tuple[str, ...]
    typed: tuple[pl.Expr, ...]
    derived: tuple[pl.Expr, ...]
    ok: pl.Expr
    outputs: tuple[str, ...]
    projection: str

    def apply(self, parsed: pl.DataFrame, topic: str, landed_at: datetime) -> pl.DataFrame:
        return (
            parsed.with_columns(self.typed)
            .with_columns(*self.derived, ok=self.ok, kafka_topic=pl.lit(topic), landed_at=pl.lit(landed_at, pl.Datetime("us")))
            .select(["i", "ok", *self.outputs])
        )


def compile_check(model: type[BaseModel], columns: dict[str, str], derived: dict[str, pl.Expr]) -> ColumnarCheck:
    """Compile `model` into a ColumnarCheck producing `columns` (name -> SQL type of the raw table).

    `derived` gives the output columns that are not fields, as polars expressions over the typed
    fields (named as the fields), e.g. ``{"event_date": pl.col("event_time").dt.date()}``.
    """
    specs = field_specs(model)
    compiled = {s.name: _compile_field(s) for s in specs}
    typed: list[pl.Expr] = []
    for s in specs:
        for out, expr in compiled[s.name].typed.items():
            typed.append((expr.fill_null(s.default) if s.default is not None else expr).alias(out))
    maps = [s.name for s in specs if s.kind == "string_map"]
    map_keys = pl.sum_horizontal([pl.col(f"{m}__keys").list.len().fill_null(0) for m in maps] or [pl.lit(0)])
    found = pl.sum_horizontal([pl.col(f"r_{s.name}").is_not_null() for s in specs])
    strings = pl.sum_horizontal([pl.col(f"r_{s.name}").is_not_null() for s in specs if s.kind in ("string", "datetime")])
    # Null means absent or an explicit null; the counts tell a null apart and allow it only on nullable
    # fields, where it equals absence.
    valid = [
        pl.col(f"r_{s.name}").is_not_null() & compiled[s.name].valid
        if s.required
        else pl.col(f"r_{s.name}").is_null() | compiled[s.name].valid
        for s in specs
    ]
    rules = [rule.predicate(pl.col) for rule in getattr(model, "RULES", ())]
    ok = pl.all_horizontal(
        pl.col("n_nulls") == pl.col("n_nullable_nulls"),
        pl.col("keys_unique"),
        pl.col("n_keys") == found + map_keys + pl.col("n_nulls"),
        pl.col("n_strings") == strings + map_keys,
        *valid,
        *rules,
    ).fill_null(False)
    outputs: list[str] = []
    projection: list[str] = []
    for c in columns:
        if c in maps:
            outputs += [f"{c}__keys", f"{c}__values"]
            # pydantic keeps an empty mapping, and the row stores no tags for it
            projection.append(f"CASE WHEN len({c}__keys) > 0 THEN map({c}__keys, {c}__values) END AS {c}")
            continue
        if c not in derived and c not in compiled and c not in ("kafka_partition", "kafka_offset", "kafka_topic", "landed_at"):
            raise ValueError(f"column {c!r} of {model.__name__} is neither a field nor derived")
        outputs.append(c)
        projection.append(f"CAST({c} AS {columns[c].replace(' NOT NULL', '')}) AS {c}")
    return ColumnarCheck(
        schema={s.name: POLARS_TYPES[s.kind] for s in specs},
        nullable=tuple(s.name for s in specs if s.nullable),
        typed=tuple(typed),
        derived=tuple(expr.alias(name) for name, expr in derived.items()),
        ok=ok,
        outputs=tuple(outputs),
        projection=", ".join(projection),
    )


class StructureError(Exception):
    """polars could not read a chunk as the contract's columns (bad JSON, a wrong type): split it."""


def fast_path_shape(lines: pl.Series) -> pl.Series:
    """Rows the compiled check may vouch for: one object per line, no escapes, spacing it can count."""
    ok = lines.str.starts_with("{") & lines.str.ends_with("}")
    for odd in ("\\", "\n", "\r", *ODD_SPACING):
        ok = ok & ~lines.str.contains(odd, literal=True)
    return ok.fill_null(False)


def unreadable(lines: pl.Series) -> pl.Series:
    """Lines that are not one JSON document (truncated, trailing bytes): found in one pass, so a batch with
    many bad lines is read twice at most instead of being halved around each of them."""
    return lines.str.json_path_match("$").is_null()


def parse_chunk(check: ColumnarCheck, lines: pl.Series) -> pl.DataFrame:
    """Parse JSON lines that passed `fast_path_shape` into the r_* columns plus the per-row counts."""
    # Outside strings (the only place a quote-colon-space can be) the space is insignificant JSON.
    text = lines.str.replace_all('": ', '":', literal=True)
    try:
        # A value of the wrong type reads as null instead of failing the chunk: the key counts below then
        # see a present key with no value, and that row goes to pydantic, which names the problem.
        df = pl.read_ndjson(text.str.join("\n").item().encode(), schema=check.schema, ignore_errors=True)
    except Exception as exc:  # polars raises several error types for unreadable or mistyped input
        raise StructureError(str(exc)) from None
    if df.height != len(lines):
        raise StructureError(f"read {df.height} rows from {len(lines)} lines")
    n_nulls = text.str.count_matches(NULL_VALUE, literal=True)
    nullable_nulls = pl.repeat(0, len(lines), dtype=pl.UInt32, eager=True)
    keys_unique = pl.repeat(True, len(lines), eager=True)
    has_null = (n_nulls > 0).arg_true()
    if len(has_null):
        # Rare rows with an explicit null: name the nulled keys, and look for a repeated key directly
        # (polars keeps a repeated key's first value, pydantic its last).
        sub = text.gather(has_null)
        nulled = sub.str.extract_all(f'"[^"]*{NULL_VALUE}').list.eval(pl.element().str.slice(1).str.head(-len(NULL_VALUE)))
        in_nullable = nulled.list.eval(pl.element().is_in(list(check.nullable))).list.sum()
        nullable_nulls = nullable_nulls.scatter(has_null, in_nullable.cast(pl.UInt32))
        keys = sub.str.extract_all(KEY_NAME)
        keys_unique = keys_unique.scatter(has_null, keys.list.n_unique() == keys.list.len())
    counts = pl.DataFrame(
        {
            "n_keys": text.str.count_matches(KEY, literal=True),
            "n_strings": text.str.count_matches(STRING_VALUE, literal=True),
            "n_nulls": n_nulls,
            "n_nullable_nulls": nullable_nulls,
            "keys_unique": keys_unique,
        }
    )
    return pl.concat([df.rename({c: f"r_{c}" for c in df.columns}), counts], how="horizontal")

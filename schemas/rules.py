"""Cross-field rules of the contracts, written once as data.

pydantic checks them on every event it builds (``Contract._drop_unknown_and_check``), and landing's
columnar validator turns the same objects into polars predicates (``landing.columnar``), so the two
paths cannot disagree on a rule. ``predicate`` receives a function mapping a field name to the polars
expression of its typed value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any

from schemas.errors import violation

if TYPE_CHECKING:  # polars is for landing; producers validating events do not need it
    import polars as pl

Column = Callable[[str], "pl.Expr"]


@dataclass(frozen=True)
class SumAtMost:
    """sum(parts) <= limit; reported on the last part, the one that broke the bound."""

    parts: tuple[str, ...]
    limit: str
    why: str = ""

    @property
    def field(self) -> str:
        return self.parts[-1]

    def check(self, event: Any) -> None:
        values = [getattr(event, p) for p in self.parts]
        bound = getattr(event, self.limit)
        if sum(values) <= bound:
            return
        if len(self.parts) == 1:
            raise violation(self.field, f"must be <= {self.limit}{self.why} (got {values[0]} > {bound})")
        shown = " + ".join(str(v) for v in values)
        raise violation(self.field, f"{' + '.join(self.parts)} must be <= {self.limit} (got {shown} > {bound})")

    def predicate(self, col: Column) -> pl.Expr:
        return reduce(lambda a, b: a + b, [col(p) for p in self.parts]) <= col(self.limit)


@dataclass(frozen=True)
class RequiredWhen:
    """`field` may not be null when `when` equals `value`."""

    field: str
    when: str
    value: str

    def check(self, event: Any) -> None:
        current = getattr(event, self.when)
        if getattr(event, self.field) is None and getattr(current, "value", current) == self.value:
            raise violation(self.field, f"is required when {self.when} is {self.value}")

    def predicate(self, col: Column) -> pl.Expr:
        return col(self.field).is_not_null() | (col(self.when) != self.value)


@dataclass(frozen=True)
class After:
    """`field` > `other` (both timestamps)."""

    field: str
    other: str

    def check(self, event: Any) -> None:
        end, start = getattr(event, self.field), getattr(event, self.other)
        if end <= start:
            raise violation(self.field, f"must be after {self.other} (got {end.isoformat()} <= {start.isoformat()})")

    def predicate(self, col: Column) -> pl.Expr:
        return col(self.field) > col(self.other)


Rule = SumAtMost | RequiredWhen | After

"""Field types and the base model shared by every tierwise contract.

Numbers are strict (``"3"``, ``3.0`` and ``true`` are not token counts) so a producer's bug is
rejected rather than silently coerced into money. Free-text fields are length-bounded: an id or a
label never needs more than 256 characters, and the bound keeps a prompt from riding along in one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from schemas.content import count_content
from schemas.errors import NO_CONTROL_PATTERN, bad_value, shown
from schemas.rules import Rule

SCHEMA_MAJOR = "1"
# Minor versions ("1.1") may only add optional fields, which v1 readers ignore; a new major is a new topic.
SCHEMA_VERSION_PATTERN = r"^1(\.[0-9]+)?$"

# The validation context key adapters use to carry content they dropped before building the event.
DROPPED_CONTEXT_KEY = "content_fields_dropped"


def _rfc3339(value: Any) -> Any:
    # pydantic would also take epoch numbers and numeric strings; the contract is RFC 3339 text.
    if isinstance(value, datetime):
        return value
    # Looks like a calendar date: let pydantic parse it (and reject a missing offset with its own reason).
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return value
    raise bad_value(f"must be an RFC 3339 timestamp with a UTC offset (got {shown(value)})")


def naive_utc(when: datetime) -> datetime:
    """The warehouse stores UTC as naive TIMESTAMP."""
    if when.utcoffset():
        when = when.astimezone(UTC)
    return when.replace(tzinfo=None)


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
# No control characters (C0, DEL, C1) or line/paragraph separators in a name: a newline in a workload
# breaks every table the CLI prints and every CSV line it exports.
Name = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_CONTROL_PATTERN)]
# A bound far above any real request that still keeps sums of billions of rows inside BIGINT.
TOKEN_LIMIT = 10**12
TokenCount = Annotated[int, Field(ge=0, le=TOKEN_LIMIT, strict=True)]
Millis = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)]
Flag = Annotated[bool, Field(strict=True)]
TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagValue = Annotated[str, Field(max_length=256)]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=64)]
SchemaVersion = Annotated[str, Field(pattern=SCHEMA_VERSION_PATTERN)]


class Contract(BaseModel):
    """Base of the event contracts: immutable, unknown fields ignored, content dropped and counted.

    Unknown fields are collected (``extra="allow"``) only so that content among them can be counted;
    they are discarded before validation returns, so neither ``model_dump`` nor the JSON carries them.
    """

    model_config = ConfigDict(extra="allow", frozen=True, validate_default=False)

    # Cross-field rules, checked here and compiled into landing's columnar validator (schemas/rules.py).
    RULES: ClassVar[tuple[Rule, ...]] = ()

    _content_fields_dropped: int = PrivateAttr(default=0)

    @property
    def content_fields_dropped(self) -> int:
        """How many request/response content fields were found and dropped while building this event."""
        # Read the private store directly: attribute access to a private goes through a slow __getattr__.
        return self.__pydantic_private__["_content_fields_dropped"]  # type: ignore[index]

    @model_validator(mode="after")
    def _drop_unknown_and_check(self, info: ValidationInfo) -> Self:
        extra = self.__pydantic_extra__
        dropped = 0
        if extra:
            dropped = count_content(extra)
            extra.clear()
        if info.context:
            dropped += int(info.context.get(DROPPED_CONTEXT_KEY, 0))
        for rule in self.RULES:
            rule.check(self)
        dropped += self._check()
        if dropped:
            self._content_fields_dropped = dropped
        return self

    def _check(self) -> int:
        """Checks beyond RULES; returns how many content fields it dropped from nested values."""
        return 0

"""JSON text in, Python values out, with every JSON number's literal text kept for money fields.

pydantic-core reads a JSON number with a fraction or an exponent as a binary float, so a price sent as
``123456789.123456789012`` would arrive as ``123456789.12345679``. Contracts with money fields therefore
decode their JSON here: a number with a fraction or exponent becomes a :class:`JsonNumber`, a float (so
float fields validate exactly as before) that also carries the digits the producer wrote, from which a
money field takes its Decimal. Integers stay ints. ``NaN`` and ``Infinity``, which some producers write,
become JsonNumbers too, so the field they were sent in rejects them with its own reason.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class JsonNumber(float):
    """A JSON number with a fraction or exponent: its float value, and ``text`` as it was written."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def exact(self) -> Decimal:
        """The number as written, as a Decimal (no rounding through binary floating point)."""
        return Decimal(self.text)


def loads_exact(raw: bytes | bytearray | str) -> Any:
    """``json.loads``, with numbers that have a fraction or exponent (and NaN/Infinity) as JsonNumbers."""
    return json.loads(raw, parse_float=JsonNumber, parse_constant=JsonNumber)

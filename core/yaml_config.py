"""Validated YAML config files: one way to read them and one shape of error for every config tierwise reads.

A problem is one TierwiseError line naming the file, the item (a workload, a deployment, a rule) by its
`name`, and the field, e.g. ``tierwise.yaml: workload support-chat: ops_fte: Input should be ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import TierwiseError

M = TypeVar("M", bound=BaseModel)
Location = Callable[[tuple[Any, ...], dict[str, Any]], str]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TierwiseError(f"cannot read {path}: {exc.strerror or exc}") from None


def yaml_mapping(text: str, source: str, expected: str) -> dict[str, Any]:
    """The YAML document in `text` as a mapping (an empty document is an empty mapping)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TierwiseError(f"{source}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise TierwiseError(f"{source}: expected a mapping with {expected}, got {type(data).__name__}")
    return data


def named_items(collections: Mapping[str, str], skip: tuple[str, ...] = ()) -> Location:
    """A location function naming items: with {"workloads": "workload"}, pydantic's ('workloads', 2, 'ops_fte')
    reads 'workload support-chat: ops_fte' (a list item by its `name`, a mapping's item by its key). Parts in
    `skip` (a tagged union's tag) are left out."""

    def where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
        head: list[str] = []
        fields: list[str] = []
        node: Any = data
        i = 0
        while i < len(loc):
            key = loc[i]
            if key in collections and i + 1 < len(loc) and isinstance(loc[i + 1], int):
                index = loc[i + 1]
                items = node.get(key) if isinstance(node, dict) else None
                item = items[index] if isinstance(items, list) and index < len(items) else None
                name = item.get("name") if isinstance(item, dict) else None
                head.append(f"{collections[key]} {name}" if isinstance(name, str) else f"{key}[{index}]")
                node, i = item, i + 2
                continue
            if key in collections and i + 1 < len(loc) and isinstance(node, dict) and isinstance(node.get(key), dict):
                # a mapping of named items (channels: {ops-hook: ...}): the key is the name
                head.append(f"{collections[key]} {loc[i + 1]}")
                node, i = node[key].get(loc[i + 1]), i + 2
                continue
            if key not in skip:
                fields.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
            i += 1
        return ": ".join(head + ([".".join(fields)] if fields else []))

    return where


def validate(
    model: type[M], data: dict[str, Any], source: str, where: Location, messages: Mapping[str, str] | None = None
) -> M:
    """`model` from `data`; the first problem becomes one line, with the count of the others.

    `messages` replaces pydantic's message for an error type (e.g. a tagged union's unknown tag).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = where(tuple(first["loc"]), data)
        overrides = {"extra_forbidden": "is not a known field", **(messages or {})}
        message = overrides.get(first["type"]) or str(first["msg"]).removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise TierwiseError(f"{source}: {place + ': ' if place else ''}{message}{suffix}") from None

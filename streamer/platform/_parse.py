"""Small helpers to read platform JSON leniently: extra fields are ignored, missing required ones are named."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streamer.platform.errors import ResponseFormatError

_HINT = "the platform API may have changed (compare skill.json's version with 2.1.2)"


def require_object(data: Any, endpoint: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ResponseFormatError(f"{endpoint}: expected a JSON object, got {type(data).__name__} — {_HINT}")
    return data


def pick(data: Mapping[str, Any], *keys: str) -> Any:
    """The first present, non-None value among ``keys`` (names drift between platform versions)."""
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def required(data: Mapping[str, Any], endpoint: str, *keys: str, kind: type | tuple[type, ...] = str) -> Any:
    value = pick(data, *keys)
    if value is None:
        raise ResponseFormatError(f"{endpoint}: the response lacks required field {keys[0]!r} — {_HINT}")
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # ids sometimes arrive as numbers
    if not isinstance(value, kind):
        raise ResponseFormatError(
            f"{endpoint}: field {keys[0]!r} should be {_kind_name(kind)}, got {type(value).__name__} — {_HINT}"
        )
    return value


def text(data: Mapping[str, Any], *keys: str) -> str | None:
    value = pick(data, *keys)
    return None if value is None else str(value)


def number(data: Mapping[str, Any], *keys: str) -> float | None:
    """A number that may arrive as int, float or numeric string; anything else reads as unknown."""
    value = pick(data, *keys)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def integer(data: Mapping[str, Any], *keys: str) -> int | None:
    value = number(data, *keys)
    return None if value is None else int(value)


def items(data: Any, endpoint: str, *keys: str) -> Sequence[Any]:
    """A list result that may come bare or wrapped in an object under one of ``keys`` (or its only list)."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in keys:
            if isinstance(data.get(key), list):
                return data[key]
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    raise ResponseFormatError(
        f"{endpoint}: expected a list (bare or under {', '.join(repr(k) for k in keys)}), "
        f"got {type(data).__name__} — {_HINT}"
    )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__

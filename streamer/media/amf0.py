"""The small part of AMF0 (Adobe's Action Message Format, version 0) that RTMP ``connect`` commands use.

Why by hand: the relay rewrites one string in the client's ``connect`` command (see ``rtmp_connect``), and
the Python AMF libraries on PyPI (PyAMF, amfast) are unmaintained Python 2 era code. The subset is tiny.

Values map to Python as: number -> ``float``, boolean -> ``bool``, string -> ``str``, null -> ``None``,
undefined -> ``UNDEFINED``, object -> ``dict`` (insertion order = wire order), ECMA array -> ``EcmaArray``
(a ``dict`` that remembers the count its header declared). ``encode_values(decode_values(b)) == b`` for every
payload this module accepts, so re-encoding after a change alters only the changed value's bytes.
"""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED_MARKER, ECMA_ARRAY, OBJECT_END = 0, 1, 2, 3, 5, 6, 8, 9

_MAX_DEPTH = 32  # a connect command nests objects one level deep; this only stops runaway recursion


class Amf0Error(ValueError):
    """The bytes are not AMF0 this module understands (or a value cannot be encoded)."""


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


class EcmaArray(dict):  # type: ignore[type-arg]
    """An AMF0 ECMA array: key/value pairs like an object, plus a count in its header that encoders
    fill in loosely (so it is kept as read, to re-encode the same bytes)."""

    def __init__(self, *args: Any, declared_count: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declared_count = declared_count


def decode_values(data: bytes) -> list[Any]:
    """All values in ``data`` (e.g. an AMF0 command message payload), in order."""
    values, pos = [], 0
    while pos < len(data):
        value, pos = _decode(data, pos, 0)
        values.append(value)
    return values


def encode_values(values: list[Any]) -> bytes:
    out = bytearray()
    for value in values:
        _encode(value, out, 0)
    return bytes(out)


def _need(data: bytes, pos: int, size: int) -> None:
    if pos + size > len(data):
        raise Amf0Error(f"AMF0 data ends early: need {size} bytes at offset {pos}, have {len(data) - pos}")


def _decode_utf8(data: bytes, pos: int) -> tuple[str, int]:
    _need(data, pos, 2)
    (length,) = struct.unpack_from(">H", data, pos)
    pos += 2
    _need(data, pos, length)
    try:
        return data[pos : pos + length].decode("utf-8"), pos + length
    except UnicodeDecodeError as exc:
        raise Amf0Error(f"AMF0 string at offset {pos} is not UTF-8") from exc


def _decode_properties(data: bytes, pos: int, into: dict[str, Any], depth: int) -> int:
    """Key/value pairs up to and including the empty key + object-end marker."""
    while True:
        key, pos = _decode_utf8(data, pos)
        _need(data, pos, 1)
        if key == "" and data[pos] == OBJECT_END:
            return pos + 1
        if key in into:
            raise Amf0Error(f"AMF0 object repeats the property {key!r}")  # a dict could not re-encode it
        into[key], pos = _decode(data, pos, depth + 1)


def _decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise Amf0Error("AMF0 objects nested too deeply")
    _need(data, pos, 1)
    marker, pos = data[pos], pos + 1
    if marker == NUMBER:
        _need(data, pos, 8)
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == BOOLEAN:
        _need(data, pos, 1)
        if data[pos] > 1:
            raise Amf0Error(f"AMF0 boolean at offset {pos} is {data[pos]}, not 0 or 1")
        return bool(data[pos]), pos + 1
    if marker == STRING:
        return _decode_utf8(data, pos)
    if marker == NULL:
        return None, pos
    if marker == UNDEFINED_MARKER:
        return UNDEFINED, pos
    if marker == OBJECT:
        obj: dict[str, Any] = {}
        return obj, _decode_properties(data, pos, obj, depth)
    if marker == ECMA_ARRAY:
        _need(data, pos, 4)
        array = EcmaArray(declared_count=struct.unpack_from(">I", data, pos)[0])
        return array, _decode_properties(data, pos + 4, array, depth)
    raise Amf0Error(f"unsupported AMF0 type marker {marker:#04x} at offset {pos - 1}")


def _encode_utf8(text: str, out: bytearray) -> None:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise Amf0Error(f"AMF0 string of {len(raw)} bytes is too long (the limit is 65535)")
    out += struct.pack(">H", len(raw)) + raw


def _encode_properties(obj: dict[str, Any], out: bytearray, depth: int) -> None:
    for key, value in obj.items():
        if not isinstance(key, str) or key == "":
            raise Amf0Error(f"AMF0 property names must be non-empty strings, not {key!r}")
        _encode_utf8(key, out)
        _encode(value, out, depth + 1)
    out += b"\x00\x00" + bytes([OBJECT_END])


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Amf0Error("AMF0 objects nested too deeply")
    # bool before number: bool is an int subclass.
    if isinstance(value, bool):
        out += bytes([BOOLEAN, int(value)])
    elif isinstance(value, (int, float)):
        out += bytes([NUMBER]) + struct.pack(">d", float(value))
    elif isinstance(value, str):
        out.append(STRING)
        _encode_utf8(value, out)
    elif value is None:
        out.append(NULL)
    elif value is UNDEFINED:
        out.append(UNDEFINED_MARKER)
    elif isinstance(value, EcmaArray):
        count = len(value) if value.declared_count is None else value.declared_count
        out += bytes([ECMA_ARRAY]) + struct.pack(">I", count)
        _encode_properties(value, out, depth)
    elif isinstance(value, dict):
        out.append(OBJECT)
        _encode_properties(value, out, depth)
    else:
        raise Amf0Error(f"cannot encode {type(value).__name__} as AMF0")

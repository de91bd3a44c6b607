"""The terminal's fast path for plain ASCII text leaves the screen exactly as pyte's own draw would."""

from __future__ import annotations

import random

import pyte

from streamer.scene.terminal import _TrackingScreen


class _ReferenceScreen(_TrackingScreen):
    """The same screen (scroll tracking included) with pyte's own, fully general draw."""

    draw = pyte.Screen.draw


# Pieces a log might contain, plus everything that must leave the fast path: wide and combining
# characters, the DEC graphics charset, insert mode, autowrap off, cursor moves, colours.
_PIECES = [
    "plain ascii text ", "x" * 170, "[000123] step 5: ok\n", "tab\there", "\r", "\n", "\x1b[31mred\x1b[0m",
    "\x1b[1;44mbold on blue\x1b[0m", "wide 漢字 chars", "e\u0301 combining", "\x1b(0lqqk\x1b(B", "\x0e\x0f",
    "\x1b[4hinsert\x1b[4l", "\x1b[?7lno wrap " + "y" * 30 + "\x1b[?7h", "\x1b[5;150H", "\x1b[2K", "\x1b[A\x1b[3C",
    "é café ünïcode", "\x1b[7mreverse\x1b[27m", " ", "~" * 13,
]


def _state(screen: pyte.Screen) -> tuple:
    cells = {(y, x): screen.buffer[y][x] for y in range(screen.lines) for x in range(screen.columns)}
    return cells, (screen.cursor.x, screen.cursor.y, screen.cursor.attrs), set(screen.dirty), screen.scrolled


def test_fast_draw_matches_pyte_on_random_terminal_output():
    rng = random.Random(20261203)
    for trial in range(40):
        fast, reference = _TrackingScreen(20, 6), _ReferenceScreen(20, 6)
        fast_stream, reference_stream = pyte.Stream(fast), pyte.Stream(reference)
        for _ in range(60):
            piece = rng.choice(_PIECES)
            fast_stream.feed(piece)
            reference_stream.feed(piece)
            assert _state(fast) == _state(reference), f"trial {trial}: screens differ after {piece!r}"
            for screen in (fast, reference):  # as the view does when it draws: only new damage counts next
                screen.dirty.clear()
                screen.scrolled = 0


def test_fast_draw_wraps_long_lines_and_keeps_attributes():
    screen = _TrackingScreen(10, 3)
    stream = pyte.Stream(screen)
    screen.cursor_position(3, 1)
    stream.feed("\x1b[32m" + "abcdefghijKLMNOPQRSTuv")
    assert [line.rstrip() for line in screen.display] == ["abcdefghij", "KLMNOPQRST", "uv"]
    assert screen.scrolled == 2 and screen.cursor.x == 2
    assert all(screen.buffer[2][x].fg == "green" for x in range(2))

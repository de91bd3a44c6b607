"""TerminalView: a real terminal emulator (pyte) drawn into the frame."""

import numpy as np
import pytest

import threading

from streamer.scene import Stage, TerminalView


@pytest.fixture
def term_stage():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(width=1280, height=720))
    stage.render()
    return stage, term


def row_pixels(stage, term, row):
    r = term.row_rect(row)
    return stage.frame[r.y:r.bottom, r.x:r.right]


def cells(stage, term, row, first, count):
    cw, lh = term.cell_size
    r = term.row_rect(row)
    return stage.frame[r.y:r.bottom, r.x + first * cw:r.x + (first + count) * cw]


def is_green(px):
    return (px[..., 1] > 200) & (px[..., 0] < 80) & (px[..., 2] < 80)


def test_grid_fits_the_frame_with_readable_cells(term_stage):
    stage, term = term_stage
    cw, lh = term.cell_size
    assert term.columns * cw <= 1280 and term.rows * lh <= 720
    assert 130 <= term.columns <= 160 and 40 <= term.rows <= 45
    assert lh >= 15


def test_newest_line_is_on_the_bottom_row_in_green(term_stage):
    stage, term = term_stage
    term.feed(b"hello world\n")
    damage = stage.render()
    assert term.display()[-1].startswith("hello world")
    assert is_green(row_pixels(stage, term, term.rows - 1)).sum() > 50
    assert all(r.area <= 1280 * 720 for r in damage) and damage
    assert not is_green(stage.frame[: term.row_rect(term.rows - 1).y]).any()
    for i in range(100):
        term.feed(f"line {i}\n")
    stage.render()
    assert term.display()[-1].startswith("line 99")
    assert term.display()[-2].startswith("line 98")


def test_unchanged_terminal_reports_no_damage(term_stage):
    stage, term = term_stage
    term.feed("x\n")
    stage.render()
    assert stage.render() == []
    term.feed("")
    assert stage.render() == []


def test_scroll_moves_pixels_and_damages_the_grid(term_stage):
    stage, term = term_stage
    term.feed("first\n")
    stage.render()
    bottom = row_pixels(stage, term, term.rows - 1).copy()
    term.feed("second\n")
    damage = stage.render()
    assert np.array_equal(row_pixels(stage, term, term.rows - 2), bottom)  # "first" moved up a row
    assert any(r.contains(term.row_rect(term.rows - 1)) for r in damage)


def test_ansi_colours_render_in_their_colour(term_stage):
    stage, term = term_stage
    term.feed("\x1b[31mRED\x1b[0m \x1b[38;5;21mBLU\x1b[0m \x1b[38;2;255;128;0mORG\x1b[0m")
    stage.render()
    row = term.rows - 1
    red = cells(stage, term, row, 0, 3)
    assert ((red[..., 0] > 150) & (red[..., 1] < 60) & (red[..., 2] < 60)).sum() > 20
    blue = cells(stage, term, row, 4, 3)  # 256-colour 21 is pure blue
    assert ((blue[..., 2] > 200) & (blue[..., 0] < 60) & (blue[..., 1] < 60)).sum() > 20
    orange = cells(stage, term, row, 8, 3)
    assert ((orange[..., 0] > 200) & (abs(orange[..., 1].astype(int) - 128) < 30) & (orange[..., 2] < 60)).sum() > 20
    assert not is_green(cells(stage, term, row, 0, 11)).any()


def test_bold_and_background_colours(term_stage):
    stage, term = term_stage
    term.feed("MMMM \x1b[1mMMMM\x1b[0m \x1b[44m    \x1b[0m")
    stage.render()
    row = term.rows - 1
    assert is_green(cells(stage, term, row, 5, 4)).sum() > is_green(cells(stage, term, row, 0, 4)).sum()
    bg = cells(stage, term, row, 10, 4)
    assert (bg[..., 2] > 200).all()


def test_carriage_return_overwrites(term_stage):
    stage, term = term_stage
    term.feed("progress  10%\rprogress  99%")
    stage.render()
    assert term.display()[-1].rstrip() == "progress  99%"


def test_clear_screen_and_cursor_movement(term_stage):
    stage, term = term_stage
    for i in range(60):
        term.feed(f"noise {i}\n")
    stage.render()
    term.feed("\x1b[2J\x1b[Htop line\x1b[5;10Hat 5,10")
    stage.render()
    lines = term.display()
    assert lines[0].startswith("top line")
    assert lines[4][9:].startswith("at 5,10")
    assert all(not line.strip() for i, line in enumerate(lines) if i not in (0, 4))
    assert not (stage.frame[term.row_rect(10).y:, :] > 0).any()  # the lower part is black again


def test_long_lines_wrap(term_stage):
    stage, term = term_stage
    term.feed("x" * (term.columns + 40) + "\n")
    stage.render()
    lines = term.display()
    assert lines[-2] == "x" * term.columns
    assert lines[-1].rstrip() == "x" * 40


def test_invalid_utf8_is_replaced_not_fatal(term_stage):
    stage, term = term_stage
    term.feed(b"bad \xff\xfe bytes \xe2\x82")  # junk and a split multi-byte sequence
    term.feed(b"\xac ok\n")  # ...completed by the next chunk: a euro sign
    stage.render()
    assert term.display()[-1].startswith("bad \ufffd\ufffd bytes \u20ac ok")


def test_binary_junk_and_resize_requests_do_not_break_the_grid(term_stage):
    stage, term = term_stage
    junk = bytes(range(256)) * 20 + b"\x1b[?3h\x1b[20l\x1bc\x1b[999;999H"
    term.feed(junk)
    term.feed("\nstill here\n")
    stage.render()
    assert (term.columns, term.rows) == (len(term.display()[0]), len(term.display()))
    assert any("still here" in line for line in term.display())


def test_feed_line_starts_on_a_fresh_line(term_stage):
    stage, term = term_stage
    term.feed("partial output")
    term.feed_line("[chat] bob: hi")
    stage.render()
    assert term.display()[-2].startswith("partial output")
    assert term.display()[-1].startswith("[chat] bob: hi")


def test_terminal_under_an_overlay_composes(term_stage):
    from streamer.scene import Panel
    stage, term = term_stage
    stage.root.add(Panel(x=0, y=700, width=50, height=20, fill="#ff0000"))
    term.feed("AAAAAAAAAAAAAAAAAAAA\n")
    stage.render()
    assert tuple(stage.frame[710, 10]) == (255, 0, 0)  # the overlay stays on top
    assert is_green(stage.frame[704:720, 60:160]).any()  # the terminal shows beside it


def test_feeding_from_another_thread_while_rendering(term_stage, wait_until):
    stage, term = term_stage

    def writer():
        for i in range(3000):
            term.feed(f"threaded line {i}\n")

    thread = threading.Thread(target=writer)
    thread.start()
    renders = 0
    while thread.is_alive():
        stage.render()
        renders += 1
    thread.join()
    stage.render()
    assert term.display()[-1].startswith("threaded line 2999")
    assert term.display()[-2].startswith("threaded line 2998")
    assert stage.render() == []
    # What is on the frame is what the emulator holds: the bottom row is drawn, in green.
    assert is_green(row_pixels(stage, term, term.rows - 1)).sum() > 50


def _reference_pixels(term: TerminalView) -> np.ndarray:
    """The node's pixels drawn from scratch: background, then every screen row from the glyph cells."""
    cw, lh = term.cell_size
    ref = np.empty((term._height, term._width, 3), np.uint8)
    ref[:] = term._bg
    screen = term._screen
    for y in range(term.rows):
        r = term.row_rect(y)
        ref[r.y:r.y + lh, r.x:r.x + r.w] = term._cells.row(tuple(screen.buffer[y][x] for x in range(term.columns)),
                                                          term.columns)
    return ref


def test_ring_of_rows_unrolls_to_the_screen_after_many_scrolls_with_margins():
    # A box that is not a whole number of cells leaves margins around the grid; 300 lines wrap the ring
    # of rows many times, by one and by several rows at once.
    import random

    rng = random.Random(5)
    stage = Stage(1300, 740)
    term = stage.root.add(TerminalView(x=5, y=4, width=1290, height=731))
    assert term._gx > 0 and term._gy > 0
    n = 0
    for _ in range(60):
        lines = rng.choice([0, 1, 1, 2, 7])
        term.feed("".join(f"\x1b[3{rng.randrange(8)}mline {n + i} " + "x" * rng.randrange(150) + "\x1b[0m\n"
                          for i in range(lines)))
        n += lines
        stage.render()
        ref = _reference_pixels(term)
        assert np.array_equal(stage.frame[4:4 + 731, 5:5 + 1290], ref)
        for _ in range(3):  # partial blits, as the compositor asks for damaged regions
            sx, sy = rng.randrange(1290), rng.randrange(731)
            w, h = rng.randrange(1, 1291 - sx), rng.randrange(1, 732 - sy)
            dst = np.zeros((h, w, 3), np.uint8)
            term._blit(dst, sx, sy)
            assert np.array_equal(dst, ref[sy:sy + h, sx:sx + w])
    assert term._top != 0  # the ring really turned

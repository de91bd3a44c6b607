"""Row moves: a scrolling terminal moves frame rows instead of redrawing them, and only when that is exact."""

import random

import numpy as np

from streamer.scene import Group, Panel, Stage, TerminalView
from streamer.scene.geometry import Rect


def full_redraw(stage: Stage) -> np.ndarray:
    """The frame as a from-scratch redraw of the same graph gives it (leaves ``stage`` fully redrawn)."""
    stage.invalidate()
    stage.render()
    return stage.frame.copy()


def test_a_scroll_is_a_move_plus_the_new_row():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(width=1280, height=720))
    term.feed("one\ntwo\nthree")
    stage.render()
    lh = term.cell_size[1]
    term.feed("\nfour")
    damage = stage.render()
    assert stage.moves == ((Rect(0, lh, 1280, 720 - lh), -lh),)
    assert damage == [term.row_rect(term.rows - 1)]  # only the exposed bottom row is drawn
    assert term.display()[-2].startswith("three") and term.display()[-1].startswith("four")
    moved = stage.frame.copy()
    assert np.array_equal(moved, full_redraw(stage))
    assert stage.moves == ()  # a full redraw moves nothing
    assert stage.render() == [] and stage.moves == ()


def test_moved_rgb_rows_are_redrawn_only_when_read():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(width=1280, height=720, fg="#00ff00"))
    term.feed("".join(f"line {i}\n" for i in range(60)) + "last")
    stage.render()
    lh = term.cell_size[1]
    before = stage.frame_buffer.copy()
    term.feed("\nnewest")
    damage = stage.render()
    assert damage == [term.row_rect(term.rows - 1)]
    buffer = stage.frame_buffer
    # The scroll did not move 2.7 MB of RGB: the moved rows still hold what they held...
    assert np.array_equal(buffer[: 720 - lh], before[: 720 - lh])
    stage.refresh(0, lh)  # ...until someone reads them: here only the top text row
    assert not np.array_equal(buffer[:lh], before[:lh]) and np.array_equal(buffer[lh:2 * lh], before[lh:2 * lh])
    # Reading ``frame`` brings every row up to date: the same picture a full redraw gives.
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))


def test_several_lines_at_once_move_by_several_rows():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(width=1280, height=720))
    term.feed("a\nb\n")
    stage.render()
    lh = term.cell_size[1]
    term.feed("c\nd\ne\n")
    stage.render()
    assert [dy for _, dy in stage.moves] == [-3 * lh]
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))


def test_an_overlay_above_the_terminal_is_redrawn_where_it_is_and_where_it_was_carried():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(width=1280, height=720))
    badge = stage.root.add(Panel(x=1000, y=300, width=200, height=60, fill="#ff0000"))
    term.feed("x" * 300 + "\n")
    stage.render()
    term.feed("y" * 50 + "\n")
    damage = stage.render()
    assert stage.moves  # the terminal still moves...
    assert any(r.contains(Rect(1000, 300, 200, 60)) for r in damage)  # ...the badge is redrawn in place
    assert tuple(stage.frame[330, 1100]) == (255, 0, 0)
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))
    badge.visible = False  # gone this render: its old pixels must not be carried along
    term.feed("z\n")
    stage.render()
    assert stage.moves
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))


def test_moves_are_refused_when_they_would_not_be_exact():
    stage = Stage(1280, 720)
    term = stage.root.add(TerminalView(x=0, y=400, width=1280, height=720))  # partly below the frame
    stage.render()
    term.feed("line\n" * 3)
    stage.render()
    assert stage.moves == ()  # the rows that would move in from below the frame are not on it
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))
    term.y = 0
    term.opacity = 0.5  # blended with what is below: moving its pixels would move the blend
    stage.render()
    term.feed("more\n")
    stage.render()
    assert stage.moves == ()
    assert np.array_equal(stage.frame.copy(), full_redraw(stage))


def test_random_scrolls_under_moving_overlays_equal_a_full_redraw():
    rng = random.Random(11)
    stage = Stage(1280, 720)
    stage.root.add(Panel(x=0, y=0, width=1280, height=720, fill="#202020"))
    term = stage.root.add(TerminalView(x=0, y=80, width=1280, height=560))
    group = stage.root.add(Group(x=40, y=40))
    panels = [group.add(Panel(x=rng.randrange(1000), y=rng.randrange(500), width=120, height=70,
                              fill=rng.choice(["#ff0000", "#00ff0080", "#3030ff"]), radius=rng.choice([0, 10])))
              for _ in range(4)]
    stage.render()
    moved = 0
    for step in range(150):
        action = rng.randrange(8)
        p = rng.choice(panels)
        if action == 0:
            p.x, p.y = rng.randrange(-60, 1200), rng.randrange(-60, 650)
        elif action == 1:
            p.visible = not p.visible
        elif action == 2:
            group.y = rng.randrange(-100, 300)
        elif action == 3 and p.parent is group:
            group.remove(p)
        elif action == 4 and p.parent is None:
            group.add(p)
        lines = rng.randrange(0, 4)
        term.feed("".join(f"\x1b[3{rng.randrange(8)}m{step}.{i} " + "w" * rng.randrange(180) + "\x1b[0m\n"
                          for i in range(lines)))
        stage.render()
        moved += bool(stage.moves)
        incremental = stage.frame.copy()
        assert np.array_equal(incremental, full_redraw(stage)), f"step {step}"
    assert moved > 50  # the fast path was really taken

"""Damage tracking and the basic nodes, checked on the pixels of stage.frame."""

import numpy as np
import pytest
from PIL import Image as PILImage

from streamer.scene import Background, Group, Image, Panel, Rect, Stage, Text
from streamer.scene.geometry import merge_damage


def covers(rects, target: Rect) -> bool:
    """Every pixel of target lies in some rect (checked on a mask: rects may be merged)."""
    mask = np.zeros((800, 1400), bool)
    for r in rects:
        mask[r.y:r.bottom, r.x:r.right] = True
    return bool(mask[target.y:target.bottom, target.x:target.right].all())


@pytest.fixture
def stage():
    s = Stage(1280, 720)
    s.root.add(Background("#000000"))
    return s


def test_first_render_is_full_frame_then_nothing(stage):
    assert stage.render() == [Rect(0, 0, 1280, 720)]
    before = stage.frame.copy()
    frame_id = id(stage.frame)
    assert stage.render() == []
    assert stage.render() == []
    assert np.array_equal(stage.frame, before)
    assert id(stage.frame) == frame_id
    assert stage.frame.shape == (720, 1280, 3) and stage.frame.dtype == np.uint8
    assert stage.frame.flags["C_CONTIGUOUS"]


def test_setting_the_same_value_is_not_a_change(stage):
    panel = stage.root.add(Panel(x=10, y=10, width=50, height=50, fill="red"))
    stage.render()
    panel.x = 10
    panel.fill = "red"
    assert stage.render() == []


def test_moving_a_node_damages_old_and_new_bounds(stage):
    panel = stage.root.add(Panel(x=100, y=100, width=50, height=40, fill="#ff0000"))
    stage.render()
    assert tuple(stage.frame[120, 120]) == (255, 0, 0)
    panel.x = 400
    damage = stage.render()
    assert covers(damage, Rect(100, 100, 50, 40)) and covers(damage, Rect(400, 100, 50, 40))
    assert sum(r.area for r in damage) < 1280 * 720 // 10  # only around the two rects
    assert tuple(stage.frame[120, 120]) == (0, 0, 0)
    assert tuple(stage.frame[120, 420]) == (255, 0, 0)


def test_hiding_damages_old_bounds_and_restores_what_was_below(stage):
    below = stage.root.add(Panel(x=0, y=0, width=300, height=300, fill="#0000ff"))
    top = stage.root.add(Panel(x=50, y=50, width=100, height=100, fill="#ff0000"))
    stage.render()
    assert tuple(stage.frame[60, 60]) == (255, 0, 0)
    top.visible = False
    damage = stage.render()
    assert covers(damage, Rect(50, 50, 100, 100))
    assert not covers(damage, Rect(250, 250, 10, 10))  # the rest of the blue panel is not redrawn
    assert tuple(stage.frame[60, 60]) == (0, 0, 255)
    top.visible = True
    assert covers(stage.render(), Rect(50, 50, 100, 100))
    assert tuple(stage.frame[60, 60]) == (255, 0, 0)
    assert below.visible


def test_opacity_blends_with_what_is_below(stage):
    panel = stage.root.add(Panel(x=0, y=0, width=10, height=10, fill="#ffffff", opacity=0.5))
    stage.render()
    assert 120 <= stage.frame[5, 5, 0] <= 135
    panel.opacity = 0.0
    assert stage.render() != []
    assert tuple(stage.frame[5, 5]) == (0, 0, 0)


def test_translucent_fill_and_rounded_corners(stage):
    stage.root.add(Panel(x=0, y=0, width=100, height=100, fill="#ff000080", radius=30))
    stage.render()
    assert tuple(stage.frame[0, 0]) == (0, 0, 0)  # outside the rounded corner
    assert 120 <= stage.frame[50, 50, 0] <= 135 and stage.frame[50, 50, 1] == 0


def test_group_position_visibility_and_opacity(stage):
    group = stage.root.add(Group(x=200, y=100))
    group.add(Panel(x=10, y=10, width=20, height=20, fill="#00ff00"))
    stage.render()
    assert tuple(stage.frame[115, 215]) == (0, 255, 0)  # child position is relative to the group
    group.x = 600
    damage = stage.render()
    assert covers(damage, Rect(210, 110, 20, 20)) and covers(damage, Rect(610, 110, 20, 20))
    assert tuple(stage.frame[115, 215]) == (0, 0, 0) and tuple(stage.frame[115, 615]) == (0, 255, 0)
    group.opacity = 0.5
    stage.render()
    assert 120 <= stage.frame[115, 615, 1] <= 135
    group.visible = False
    stage.render()
    assert tuple(stage.frame[115, 615]) == (0, 0, 0)


def test_removing_a_node_redraws_its_area(stage):
    panel = stage.root.add(Panel(x=5, y=5, width=10, height=10, fill="white"))
    stage.render()
    stage.root.remove(panel)
    assert covers(stage.render(), Rect(5, 5, 10, 10))
    assert tuple(stage.frame[10, 10]) == (0, 0, 0)


def ink_columns(frame, rect: Rect, threshold=100):
    region = frame[rect.y:rect.bottom, rect.x:rect.right].max(axis=2)
    cols = np.nonzero((region > threshold).any(axis=0))[0]
    return rect.x + cols.min(), rect.x + cols.max()


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_text_wraps_to_width_and_aligns(stage, align):
    text = stage.root.add(Text("one two three four five six seven", x=100, y=100, width=200, size=24, align=align))
    stage.render()
    b = text.absolute_bounds()
    assert b.w == 200 and b.h >= 3 * 24  # wrapped onto several lines
    first, last = ink_columns(stage.frame, Rect(100, 100, 200, b.h))
    if align == "left":
        assert first <= 103
    elif align == "right":
        assert last >= 296
    else:
        line = ink_columns(stage.frame, Rect(100, 100, 200, 28))
        assert abs((line[0] + line[1]) / 2 - 200) <= 3
    assert not (stage.frame[100:100 + b.h, 301:] > 0).any()  # nothing spills past the width


def test_text_colour_size_and_bold(stage):
    plain = stage.root.add(Text("Hello", x=10, y=10, size=30, color="#ff0000"))
    bold = stage.root.add(Text("Hello", x=10, y=100, size=30, color="#ff0000", bold=True))
    stage.render()
    region = stage.frame[10:60, 10:200]
    assert (region[..., 0] > 200).any() and (region[..., 1] == 0).all()
    lit_plain = (stage.frame[10:60, 10:200, 0] > 128).sum()
    lit_bold = (stage.frame[100:150, 10:200, 0] > 128).sum()
    assert lit_bold > lit_plain * 1.2
    small = plain.absolute_bounds()
    plain.size = 60
    stage.render()
    assert plain.absolute_bounds().h > small.h * 1.5


def test_text_change_damages_only_the_text(stage):
    clock = stage.root.add(Text("12:00:00", x=20, y=20, size=20))
    stage.render()
    clock.text = "12:00:01"
    damage = stage.render()
    assert damage and all(r.area < 300 * 60 for r in damage)


def test_image_alpha_is_respected(stage):
    stage.root.add(Panel(x=0, y=0, width=100, height=100, fill="#0000ff"))
    im = PILImage.new("RGBA", (40, 40), (255, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 20, 40))  # left half opaque red, right half transparent
    im.paste((255, 0, 0, 128), (20, 0, 30, 40))  # a half transparent strip
    stage.root.add(Image(im, x=10, y=10))
    stage.render()
    assert tuple(stage.frame[20, 15]) == (255, 0, 0)
    r, g, b = stage.frame[20, 35]
    assert 120 <= r <= 135 and 120 <= b <= 135
    assert tuple(stage.frame[20, 45]) == (0, 0, 255)


def test_image_from_path_scaled(stage, tmp_path):
    path = tmp_path / "red.png"
    PILImage.new("RGB", (10, 20), (255, 0, 0)).save(path)
    node = stage.root.add(Image(path, x=0, y=0, width=50))
    assert node.size == (50, 100)
    stage.render()
    assert tuple(stage.frame[99, 49]) == (255, 0, 0)


def test_bad_inputs_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="colour"):
        Panel(fill="not-a-colour")
    with pytest.raises(ValueError, match="opacity"):
        Panel(opacity=2)
    with pytest.raises(ValueError, match="align"):
        Text("x", align="middle")


def test_background_image_covers_the_stage(tmp_path):
    path = tmp_path / "bg.png"
    PILImage.new("RGB", (64, 36), (0, 128, 0)).save(path)
    stage = Stage(320, 180)
    stage.root.add(Background(image=path))
    stage.render()
    assert tuple(stage.frame[0, 0]) == (0, 128, 0) and tuple(stage.frame[179, 319]) == (0, 128, 0)


def test_merge_damage_clips_and_merges():
    bounds = Rect(0, 0, 100, 100)
    assert merge_damage([Rect(-10, -10, 20, 20)], bounds) == [Rect(0, 0, 10, 10)]
    assert merge_damage([Rect(0, 0, 10, 10), Rect(5, 5, 10, 10)], bounds) == [Rect(0, 0, 15, 15)]
    far = merge_damage([Rect(0, 0, 5, 5), Rect(90, 90, 5, 5)], bounds)
    assert sorted(far) == [Rect(0, 0, 5, 5), Rect(90, 90, 5, 5)]
    assert merge_damage([None, Rect(200, 200, 5, 5)], bounds) == []


def test_incremental_frames_equal_a_full_redraw(stage):
    """Random edits rendered incrementally must give exactly the pixels of a from-scratch redraw."""
    import random

    from streamer.scene import TerminalView

    rng = random.Random(7)
    fed = []
    term = stage.root.add(TerminalView(x=0, y=400, width=1280, height=320))
    group = stage.root.add(Group(x=50, y=50))
    panels = [group.add(Panel(x=rng.randrange(600), y=rng.randrange(300), width=80, height=60,
                              fill=rng.choice(["#ff0000", "#00ff0080", "#3030ff"]), radius=rng.choice([0, 12])))
              for _ in range(6)]
    label = stage.root.add(Text("start", x=700, y=40, size=30, width=300, align="center"))
    stage.render()
    for step in range(120):
        p = rng.choice(panels)
        action = rng.randrange(6)
        if action == 0:
            p.x, p.y = rng.randrange(-40, 1200), rng.randrange(-40, 650)
        elif action == 1:
            p.visible = not p.visible
        elif action == 2:
            p.opacity = rng.choice([0.0, 0.3, 1.0])
        elif action == 3:
            group.x, group.y = rng.randrange(-100, 300), rng.randrange(-100, 300)
        elif action == 4:
            label.text = f"step {step} " * rng.randrange(1, 4)
        else:
            fed.append(f"\x1b[3{rng.randrange(8)}mlog {step}\x1b[0m " + "z" * rng.randrange(200) + "\n")
            term.feed(fed[-1])
        stage.render()
    incremental = stage.frame.copy()
    stage.invalidate()
    assert stage.render() == [Rect(0, 0, 1280, 720)]
    assert np.array_equal(stage.frame, incremental)
    # The terminal's scrolled-and-patched pixels equal a terminal drawn once from the same output.
    fresh = Stage(1280, 320)
    fresh_term = fresh.root.add(TerminalView(width=1280, height=320))
    fresh_term.feed("".join(fed))
    fresh.render()
    assert len(fed) > 10
    group.visible = False  # uncover the terminal, then compare it whole
    label.visible = False
    stage.render()
    assert np.array_equal(stage.frame[400:], fresh.frame)

"""The YUV picture follows row moves (a scrolling terminal) by moving rows, converting only the new ones."""

import random
from argparse import Namespace

import av
import numpy as np

from streamer.media.pipeline import Pipeline
from streamer.media.yuv import YuvFrameStore
from streamer.scene import Panel, Stage, TerminalView
from streamer.show import SceneSource
from tests.media.test_pipeline_support import W, H


def plane_diff(a: YuvFrameStore, b: YuvFrameStore) -> int:
    return max(int(np.abs(p.astype(int) - q.astype(int)).max()) for p, q in zip(a._planes, b._planes))


def full_conversion(rgb: np.ndarray) -> YuvFrameStore:
    store = YuvFrameStore(W, H)
    store.update_all(rgb)
    return store


def test_many_scrolls_equal_a_full_conversion_and_convert_only_new_rows():
    rng = random.Random(5)
    stage = Stage(W, H)
    term = stage.root.add(TerminalView(width=W, height=H))
    badge = stage.root.add(Panel(x=900, y=200, width=300, height=90, fill="#3050ff"))
    stage.render()
    store = YuvFrameStore(W, H)
    store.update_all(stage.frame)
    moves = 0
    for step in range(120):
        if step % 17 == 0:
            badge.y = rng.randrange(0, 600)  # something above the terminal changes too, sometimes
        term.feed("".join(f"\x1b[3{rng.randrange(1, 8)}m{step}.{i} " + "#" * rng.randrange(150) + "\x1b[0m\n"
                          for i in range(rng.randrange(1, 4))))
        damage = stage.render()
        store.update(stage.frame, damage, stage.moves)
        moves += len(stage.moves)
        # Within the converter's rounding of a full conversion, after every single step.
        assert plane_diff(store, full_conversion(stage.frame)) <= 1, f"step {step}"
    assert moves > 100
    # Pay for change: a full conversion per scroll would be 120 * 720 rows.
    assert store.rows_moved > 100 * 600
    assert store.rows_converted < H + 120 * 200
    # Full-screen scrolls slid the window (and ran off the end of the backing rows more than once).
    assert store.window_slides > 100 and store.window_rewinds >= 2


def test_sliding_the_window_gives_the_same_picture_as_moving_rows():
    """A whole-picture move up is done by sliding the window; rows it uncovers hold what a row move would
    have left there, even when nobody redraws them, across rewinds to the top of the backing rows."""
    rng = np.random.default_rng(4)
    picture = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    sliding, moving = YuvFrameStore(W, H, slack_rows=100), YuvFrameStore(W, H, slack_rows=0)
    for store in (sliding, moving):
        store.update_all(picture)
    for step in range(40):
        dy = -2 * int(rng.integers(1, 40))
        band = rng.integers(0, 256, (16, W, 3), dtype=np.uint8)
        picture[H - 16:] = band
        for store in (sliding, moving):
            # Every other step nothing is redrawn: the uncovered rows must still agree.
            store.update(picture, [(0, H - 16, W, 16)] if step % 2 else [], [((0, -dy, W, H + dy), dy)])
        assert all(np.array_equal(a, b) for a, b in zip(sliding._planes, moving._planes)), f"step {step}"
        assert np.array_equal(sliding.frame.to_ndarray(), moving.frame.to_ndarray())
    assert moving.window_slides == 0 and sliding.window_slides == 40 and sliding.window_rewinds > 5


def test_lazily_moved_rgb_rows_are_refreshed_before_they_are_converted():
    """The stage leaves moved RGB rows stale; the YUV picture, which reads the raw buffer and refreshes
    only the bands it converts, must still equal a full conversion, overlays moving over stale rows included."""
    rng = random.Random(8)
    stage = Stage(W, H)
    term = stage.root.add(TerminalView(width=W, height=H))
    badge = stage.root.add(Panel(x=900, y=200, width=300, height=90, fill="#3050ff"))
    stage.render()
    store = YuvFrameStore(W, H)
    store.update_all(stage.frame)
    refreshed_rows = []

    def refresh(y0: int, y1: int) -> None:
        refreshed_rows.append(y1 - y0)
        stage.refresh(y0, y1)

    for step in range(90):
        if step % 5 == 0:
            badge.x, badge.y = rng.randrange(0, 1000), rng.randrange(0, 630)  # over rows left stale
        term.feed("".join(f"{step}.{i} " + "%" * rng.randrange(150) + "\n" for i in range(rng.randrange(1, 3))))
        damage = stage.render()
        store.update(stage.frame_buffer, damage, stage.moves, refresh)
        if step % 9 == 8:  # compare now and then, so stale rows pile up in between
            assert plane_diff(store, full_conversion(stage.frame)) <= 1, f"step {step}"
    # Only the bands being converted were refreshed, not the whole moved picture every time.
    assert sum(refreshed_rows) < 90 * 200


def test_moves_that_cannot_be_exact_are_converted_instead():
    rng = np.random.default_rng(2)
    before = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    store = YuvFrameStore(W, H)
    store.update_all(before)
    for rect, dy in [((0, 101, W, 300), -16),  # odd first row: chroma rows would straddle
                     ((200, 100, 600, 300), -16),  # partial width: swscale reads the column to the left
                     ((0, 100, W, 300), -15),  # odd distance
                     ((0, 600, W, 200), 16)]:  # would move rows off the frame
        x, y, w, h = rect
        after = before.copy()
        top, bottom = max(0, y + dy), min(H, y + h + dy)
        after[top:bottom, x:x + w] = before[top - dy:bottom - dy, x:x + w]
        moved_before = store.rows_moved
        store.update(after, [], [(rect, dy)])
        assert store.rows_moved == moved_before  # not moved...
        assert plane_diff(store, full_conversion(after)) <= 1  # ...converted, so still right
        before = after


def test_a_scrolling_terminal_streams_the_same_pixels_it_draws(tmp_path):
    stage_log = tmp_path / "term.log"
    stage_log.write_text("")

    class Scene:
        """A terminal fed a numbered line every frame (a scroll per frame)."""

        @staticmethod
        def setup(stage, options):
            stage.state.term = stage.root.add(TerminalView(width=W, height=H))
            stage.state.n = 0

        @staticmethod
        def update(stage, t):
            stage.state.n += 1
            stage.state.term.feed(f"\x1b[32mline {stage.state.n:04d}\x1b[0m " + "=" * (stage.state.n % 120) + "\n")

        on_comment = teardown = staticmethod(lambda *a: None)

    source = SceneSource(Scene, Namespace())
    out = tmp_path / "scroll.flv"
    pipeline = Pipeline(source, health_interval=3600)
    pipeline.start(str(out))
    pipeline.run(duration=2.0)
    last_drawn = source.frame.copy()
    assert pipeline.frame_store.rows_moved > 30 * 600  # the scrolls went out as moves
    assert pipeline.frame_store.window_rewinds >= 1  # slid to the end of the backing rows and back
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) >= 55
    # The last decoded frame is what the terminal drew last (H.264 at 1500k is lossy: compare coarsely).
    diff = np.abs(frames[-1].astype(int) - last_drawn.astype(int))
    assert diff.mean() < 6
    green_rows = (last_drawn[..., 1] > 150).any(axis=1)
    assert ((frames[-1][..., 1] > 100).any(axis=1) == green_rows).mean() > 0.97

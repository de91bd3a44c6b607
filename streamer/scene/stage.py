"""The stage: owns the 1280x720 RGB frame and redraws only what changed since the last render.

``render()`` collects damage (old and new bounds of every dirty node, or the sub-regions a node
reports itself), merges it into a few rectangles, and recomposes each rectangle from the nodes
that intersect it, bottom to top.  The lowest node that opaquely covers a rectangle starts it,
so what lies beneath is never touched; an opaque node with a numpy fast path (background colour,
terminal) is copied straight into the frame without Pillow.

A node may also report that some of its rows *moved* (a terminal scrolling).  When nothing else
shows in the moved area, the stage publishes the move in ``moves``, so a consumer that keeps its own
copy of the frame (the pipeline's YUV picture) moves rows too instead of reconverting them: a scroll
then costs only its new rows.  The stage itself does not move its RGB pixels at once: moving 2.7 MB
five times a second, through caches the encoder has just flushed, was the largest single cost of a
scrolling terminal, and nobody may ever read those rows.  It marks them *stale* instead; reading
``frame`` recomposes stale rows from the graph first, and a consumer that reads the raw
``frame_buffer`` (the pipeline, every frame) calls ``refresh(y0, y1)`` for the rows it is about to
read.
"""

from __future__ import annotations

import threading
import types

import numpy as np
from PIL import Image as PILImage

from .colors import Color, to_rgba
from .geometry import Rect, merge_damage
from .node import Group, Node, leaves


class Stage:
    """A frame and the scene graph drawn into it.

    ``frame`` is a C-contiguous ``(height, width, 3)`` uint8 RGB array that ``render()`` mutates in
    place (the same array for the stage's whole life), brought fully up to date whenever it is read;
    ``frame_buffer`` is the same array without that (see the module docstring).  Change nodes on the thread that calls
    ``render()``; only ``TerminalView.feed`` is meant to be called from other threads.  ``state`` is a free namespace where a scene
    module keeps its nodes and helpers between ``setup`` and ``update``.
    """

    def __init__(self, width: int = 1280, height: int = 720, background: Color = "black") -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"stage size must be positive, got {width}x{height}")
        self.width = int(width)
        self.height = int(height)
        self._bg = to_rgba(background)[:3]
        self._frame = np.empty((self.height, self.width, 3), dtype=np.uint8)
        self._frame[:] = self._bg
        self._stale = np.zeros(self.height, dtype=bool)  # rows of _frame not yet redrawn after a move
        self._any_stale = False
        self.bounds = Rect(0, 0, self.width, self.height)
        self.state = types.SimpleNamespace()
        # Insertion-ordered set of dirty nodes; nodes may be marked from other threads (a
        # terminal fed by a follower), so render() swaps it out rather than iterating it live.
        self._dirty: dict[Node, None] = {}
        self._dirty_lock = threading.Lock()
        self._extra_damage: list[Rect] = []
        self._first = True
        # Row moves carried out by the last render(), in the order applied: (source rect, dy).
        self.moves: tuple[tuple[Rect, int], ...] = ()
        self.root = Group()
        self.root._stage = self

    # -- called by nodes ------------------------------------------------------------------
    def _mark_dirty(self, node: Node) -> None:
        with self._dirty_lock:
            self._dirty[node] = None

    def _damage(self, rect: Rect) -> None:
        self._extra_damage.append(rect)

    @property
    def frame(self) -> np.ndarray:
        """The current picture, every row up to date."""
        if self._any_stale:
            self.refresh()
        return self._frame

    @property
    def frame_buffer(self) -> np.ndarray:
        """The same array as ``frame`` but possibly with stale rows: call ``refresh`` for rows you read."""
        return self._frame

    def refresh(self, y0: int = 0, y1: int | None = None) -> None:
        """Redraw the stale rows among ``[y0, y1)`` from the graph (nothing to do in the common case)."""
        if not self._any_stale:
            return
        y1 = self.height if y1 is None else min(y1, self.height)
        y0 = max(0, y0)
        rows = np.flatnonzero(self._stale[y0:y1])
        if not len(rows):
            return
        # Contiguous runs of stale rows, each recomposed as one full-width region.
        breaks = np.flatnonzero(np.diff(rows) > 1)
        starts = np.concatenate(([rows[0]], rows[breaks + 1])) + y0
        ends = np.concatenate((rows[breaks], [rows[-1]])) + y0 + 1
        drawables = self._drawables()
        for start, end in zip(starts.tolist(), ends.tolist()):
            self._compose(Rect(0, start, self.width, end - start), drawables)
        self._stale[y0:y1] = False
        self._any_stale = bool(self._stale.any())

    # -- rendering ------------------------------------------------------------------------
    def render(self) -> list[Rect]:
        """Bring ``frame`` up to date; return the damaged rectangles ([] when nothing changed).

        Afterwards ``moves`` lists the row moves this render applied to the frame before redrawing the
        damage: ``(rect, dy)`` means the pixels of ``rect`` moved ``dy`` rows down (negative: up).  A
        consumer mirroring the frame applies the moves in order, then takes the damaged rectangles.
        """
        self.moves = ()
        if not self._dirty and not self._extra_damage and not self._first:
            return []
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, {}
        extra, self._extra_damage = self._extra_damage, []
        damage: list[Rect | None] = list(extra)
        previously: dict[Node, Rect | None] = {}  # where dirty nodes were drawn before this render
        moves: list[tuple[Node, Rect, int]] = []
        for node in dirty:
            if node._stage is not self or isinstance(node, Group):
                continue
            node._sync()
            now = node.absolute_bounds() if node.effective_opacity() > 0.0 else None
            previously[node] = node._drawn
            if node._full_dirty or now != node._drawn:
                damage.append(node._drawn)
                damage.append(now)
            elif now is not None:
                damage.extend(r.moved(now.x, now.y).intersect(now) for r in node._partial)
                moves.extend((node, r.moved(now.x, now.y), dy) for r, dy in node._moves)
            node._drawn = now
            node._full_dirty = False
            node._partial = []
            node._moves = []
        if self._first:
            self._first = False
            damage = [self.bounds]
            moves = []
        drawables = None
        if moves:
            drawables = self._drawables()
            self.moves = tuple(self._apply_moves(moves, drawables, previously, extra, damage))
        regions = merge_damage(damage, self.bounds)
        if regions:
            drawables = drawables or self._drawables()
            for region in regions:
                self._compose(region, drawables)
                if self._any_stale and region.x == 0 and region.w == self.width:
                    self._stale[region.y:region.bottom] = False  # redrawn whole: fresh again
        return regions

    def _drawables(self) -> list:
        return [(node, node.local_bounds().moved(ox, oy), ox, oy, op) for node, ox, oy, op in leaves(self.root)]

    def _apply_moves(
        self, moves: list[tuple[Node, Rect, int]], drawables: list,
        previously: dict[Node, Rect | None], extra: list[Rect], damage: list[Rect | None],
    ) -> list[tuple[Rect, int]]:
        """Move frame rows for each usable move; damage the destination of the others.

        A moved pixel is right when the mover alone shows at its new place now and showed at its old
        place before.  So the mover must be opaque, and whatever lies above it (now, or before this
        render: nodes above, nodes hidden or removed since) is damaged both where it is and where the
        move carried its old pixels.  Damage is redrawn after the moves, from the graph.
        """
        applied: list[tuple[Rect, int]] = []
        touched: list[Rect] = []  # areas read or written by applied moves: later moves must not overlap
        order = {d[0]: i for i, d in enumerate(drawables)}
        for node, src, dy in moves:
            dest = src.moved(0, dy)
            index = order.get(node)
            area = src.union(dest)
            usable = (
                index is not None and drawables[index][4] >= 1.0 and node.is_opaque()
                and dy != 0 and not src.empty
                and drawables[index][1].contains(area) and self.bounds.contains(area)
                and not any(area.intersects(t) for t in touched)
            )
            if not usable:
                damage.append(dest)
                continue
            if any(r is not None and r.contains(dest) for r in damage):
                continue  # redrawn anyway (e.g. after invalidate()): moving would be wasted work
            above = [d[1] for d in drawables[index + 1:]]
            # Where other pixels were before this render: nodes above, plus dirty nodes not drawn below now.
            before = [r for n, r in previously.items()
                      if r is not None and n is not node and order.get(n, len(drawables)) > index]
            before += [d[1] for d in drawables[index + 1:] if d[0] not in previously]
            before += extra
            for r in above:
                damage.append(r.intersect(dest))
            for r in before:
                damage.append(r.moved(0, dy).intersect(dest))
            # The frame's pixels are not moved: the destination rows are stale until someone reads them
            # (the module docstring says why).  Rows the damage below redraws whole become fresh again.
            self._stale[dest.y:dest.bottom] = True
            self._any_stale = True
            applied.append((src, dy))
            touched.append(area)
        return applied

    def _compose(self, region: Rect, drawables: list) -> None:
        hits = [d for d in drawables if d[1].intersects(region)]
        start = 0
        for i in range(len(hits) - 1, -1, -1):
            node, bounds, _, _, op = hits[i]
            if op >= 1.0 and bounds.contains(region) and node.is_opaque():
                start = i
                break
        else:
            hits.insert(0, None)  # nothing covers the region: start from the stage background
        dst = self._frame[region.y:region.bottom, region.x:region.right]
        base = hits[start]
        rest = hits[start + 1:]
        if base is None:
            dst[:] = self._bg
        elif base[0]._blit is not None:
            base[0]._blit(dst, region.x - base[1].x, region.y - base[1].y)
        else:
            rest = hits[start:]
            if not rest:
                return
            canvas = PILImage.new("RGB", (region.w, region.h), self._bg)
            self._draw_all(canvas, region, rest)
            dst[:] = np.asarray(canvas)
            return
        if rest:
            canvas = PILImage.fromarray(dst)
            self._draw_all(canvas, region, rest)
            dst[:] = np.asarray(canvas)

    @staticmethod
    def _draw_all(canvas: PILImage.Image, region: Rect, hits: list) -> None:
        for node, bounds, _, _, op in hits:
            node._draw(canvas, bounds.x - region.x, bounds.y - region.y, op)

    def invalidate(self) -> None:
        """Redraw the whole frame at the next render (damage tracking is otherwise exact)."""
        self._damage(self.bounds)

    def snapshot(self) -> PILImage.Image:
        """A copy of the current frame as a Pillow image (for thumbnails and tests)."""
        return PILImage.fromarray(self.frame.copy())

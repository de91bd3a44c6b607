"""The stage: owns the 1280x720 RGB frame and redraws only what changed since the last render.

``render()`` collects damage (old and new bounds of every dirty node, or the sub-regions a node
reports itself), merges it into a few rectangles, and recomposes each rectangle from the nodes
that intersect it, bottom to top.  The lowest node that opaquely covers a rectangle starts it,
so what lies beneath is never touched; an opaque node with a numpy fast path (background colour,
terminal) is copied straight into the frame without Pillow.
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
    place (the same array for the stage's whole life).  Change nodes on the thread that calls
    ``render()``; only ``TerminalView.feed`` is meant to be called from other threads.  ``state`` is a free namespace where a scene
    module keeps its nodes and helpers between ``setup`` and ``update``.
    """

    def __init__(self, width: int = 1280, height: int = 720, background: Color = "black") -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"stage size must be positive, got {width}x{height}")
        self.width = int(width)
        self.height = int(height)
        self._bg = to_rgba(background)[:3]
        self.frame = np.empty((self.height, self.width, 3), dtype=np.uint8)
        self.frame[:] = self._bg
        self.bounds = Rect(0, 0, self.width, self.height)
        self.state = types.SimpleNamespace()
        # Insertion-ordered set of dirty nodes; nodes may be marked from other threads (a
        # terminal fed by a follower), so render() swaps it out rather than iterating it live.
        self._dirty: dict[Node, None] = {}
        self._dirty_lock = threading.Lock()
        self._extra_damage: list[Rect] = []
        self._first = True
        self.root = Group()
        self.root._stage = self

    # -- called by nodes ------------------------------------------------------------------
    def _mark_dirty(self, node: Node) -> None:
        with self._dirty_lock:
            self._dirty[node] = None

    def _damage(self, rect: Rect) -> None:
        self._extra_damage.append(rect)

    # -- rendering ------------------------------------------------------------------------
    def render(self) -> list[Rect]:
        """Bring ``frame`` up to date; return the damaged rectangles ([] when nothing changed)."""
        if not self._dirty and not self._extra_damage and not self._first:
            return []
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, {}
        extra, self._extra_damage = self._extra_damage, []
        damage: list[Rect | None] = list(extra)
        for node in dirty:
            if node._stage is not self or isinstance(node, Group):
                continue
            node._sync()
            now = node.absolute_bounds() if node.effective_opacity() > 0.0 else None
            if node._full_dirty or now != node._drawn:
                damage.append(node._drawn)
                damage.append(now)
            elif now is not None:
                damage.extend(r.moved(now.x, now.y).intersect(now) for r in node._partial)
            node._drawn = now
            node._full_dirty = False
            node._partial = []
        if self._first:
            self._first = False
            damage = [self.bounds]
        regions = merge_damage(damage, self.bounds)
        if regions:
            drawables = [
                (node, node.local_bounds().moved(ox, oy), ox, oy, op) for node, ox, oy, op in leaves(self.root)
            ]
            for region in regions:
                self._compose(region, drawables)
        return regions

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
        dst = self.frame[region.y:region.bottom, region.x:region.right]
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

"""Rectangles and damage-region bookkeeping for the compositor."""

from __future__ import annotations

from typing import Iterable, NamedTuple


class Rect(NamedTuple):
    """An axis-aligned pixel rectangle; ``w``/``h`` of 0 means empty."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    @property
    def area(self) -> int:
        return 0 if self.empty else self.w * self.h

    def moved(self, dx: int, dy: int) -> "Rect":
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def intersect(self, other: "Rect") -> "Rect":
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def intersects(self, other: "Rect") -> bool:
        return (
            self.x < other.right and other.x < self.right
            and self.y < other.bottom and other.y < self.bottom
            and not self.empty and not other.empty
        )

    def contains(self, other: "Rect") -> bool:
        return (
            self.x <= other.x and self.y <= other.y
            and other.right <= self.right and other.bottom <= self.bottom
        )

    def union(self, other: "Rect") -> "Rect":
        if self.empty:
            return other
        if other.empty:
            return self
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.right, other.right), max(self.bottom, other.bottom)
        return Rect(x0, y0, x1 - x0, y1 - y0)


# Merging two rects whose union is at most this much bigger than their summed areas costs
# less (one compositor pass, one region for the encoder) than keeping them apart.
_MERGE_SLACK = 1.3
# Beyond this many separate regions the bookkeeping costs more than redrawing their hull.
_MAX_REGIONS = 16


def merge_damage(rects: Iterable[Rect | None], bounds: Rect) -> list[Rect]:
    """Clip ``rects`` to ``bounds`` and merge overlapping or nearby ones into few regions."""
    pending = [c for r in rects if r is not None for c in (r.intersect(bounds),) if not c.empty]
    merged: list[Rect] = []
    while pending:
        current = pending.pop()
        changed = True
        while changed:
            changed = False
            for i, other in enumerate(merged):
                hull = current.union(other)
                if current.intersects(other) or hull.area <= _MERGE_SLACK * (current.area + other.area):
                    current = hull
                    del merged[i]
                    changed = True
                    break
        merged.append(current)
    if len(merged) > _MAX_REGIONS:
        hull = merged[0]
        for r in merged[1:]:
            hull = hull.union(r)
        return [hull]
    return merged

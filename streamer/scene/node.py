"""The retained scene graph: ``Node`` (anything drawn) and ``Group`` (a positioned container).

Every visual attribute is a property; setting it to a new value marks the node dirty and tells
its stage, which at the next ``render()`` damages the node's old and new bounds and redraws only
those regions.  Positions are relative to the parent group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

from PIL import Image as PILImage

from .geometry import Rect

if TYPE_CHECKING:
    import numpy as np

    from .stage import Stage


def prop(name: str, coerce: Callable[[Any], Any] | None = None, doc: str = "") -> property:
    """A property stored in ``self._<name>`` whose change (to a different value) dirties the node."""
    attr = "_" + name

    def get(self: "Node") -> Any:
        return getattr(self, attr)

    def set_(self: "Node", value: Any) -> None:
        if coerce is not None:
            value = coerce(value)
        if getattr(self, attr, _MISSING) != value:
            setattr(self, attr, value)
            self._changed()

    return property(get, set_, doc=doc)


_MISSING = object()


def _opacity(value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {value}")
    return value


class Node:
    """Base of everything in the graph.  Subclasses implement ``local_bounds`` and ``_draw``."""

    x = prop("x", int, "Horizontal position relative to the parent, in pixels.")
    y = prop("y", int, "Vertical position relative to the parent, in pixels.")
    visible = prop("visible", bool, "Hidden nodes (and their children) are not drawn.")
    opacity = prop("opacity", _opacity, "0 (transparent) .. 1 (opaque); multiplies down the tree.")

    def __init__(self, *, x: int = 0, y: int = 0, visible: bool = True, opacity: float = 1.0) -> None:
        self._stage: Stage | None = None
        self._parent: Group | None = None
        self._x, self._y = int(x), int(y)
        self._visible = bool(visible)
        self._opacity = _opacity(opacity)
        # Absolute bounds where the node was last drawn (None: not on the frame).
        self._drawn: Rect | None = None
        self._full_dirty = True
        self._partial: list[Rect] = []
        # Row moves reported by ``_sync`` (node-local source rect, dy): "my pixels in ``rect`` now lie
        # ``dy`` rows lower".  The stage either carries them into the frame or damages the destination.
        self._moves: list[tuple[Rect, int]] = []

    # -- geometry -------------------------------------------------------------------------
    @property
    def parent(self) -> "Group | None":
        return self._parent

    @property
    def stage(self) -> "Stage | None":
        return self._stage

    def local_bounds(self) -> Rect:
        """Bounds relative to the parent (position included)."""
        raise NotImplementedError

    def origin(self) -> tuple[int, int]:
        """Absolute top-left of this node's coordinate system's parent (sum of ancestor positions)."""
        ox = oy = 0
        p = self._parent
        while p is not None:
            ox += p._x
            oy += p._y
            p = p._parent
        return ox, oy

    def absolute_bounds(self) -> Rect:
        ox, oy = self.origin()
        return self.local_bounds().moved(ox, oy)

    def effective_opacity(self) -> float:
        """Own opacity times every ancestor's; 0 when this node or an ancestor is hidden."""
        op = self._opacity if self._visible else 0.0
        p = self._parent
        while p is not None and op > 0.0:
            op *= p._opacity if p._visible else 0.0
            p = p._parent
        return op

    # -- change tracking ------------------------------------------------------------------
    def _changed(self) -> None:
        """Everything about the node may have changed: damage its old and new bounds."""
        self._full_dirty = True
        if self._stage is not None:
            self._stage._mark_dirty(self)

    def _changed_region(self, local: Rect) -> None:
        """Only ``local`` (relative to the node's own top-left) changed; bounds did not move."""
        if not self._full_dirty:
            self._partial.append(local)
        if self._stage is not None:
            self._stage._mark_dirty(self)

    def _touch(self) -> None:
        """Ask for a ``_sync`` at the next render; the node reports its own damage there."""
        if self._stage is not None:
            self._stage._mark_dirty(self)

    def _sync(self) -> None:
        """Called by the stage on the frame thread before damage is collected (e.g. to update caches)."""

    def _attach(self, stage: "Stage | None") -> None:
        self._stage = stage
        self._full_dirty = True
        if stage is not None:
            stage._mark_dirty(self)

    # -- drawing --------------------------------------------------------------------------
    def is_opaque(self) -> bool:
        """True when the node covers every pixel of its bounds fully (lets the compositor skip what is below)."""
        return False

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        """Draw onto ``canvas`` with the node's top-left at (ox, oy) in canvas pixels."""
        raise NotImplementedError

    # Opaque nodes may also implement ``_blit(dst, sx, sy)`` to fill a numpy view straight from
    # their own pixels starting at node-local (sx, sy); the compositor then skips Pillow entirely.
    _blit: "Callable[[np.ndarray, int, int], None] | None" = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(x={self._x}, y={self._y}, visible={self._visible})"


class Group(Node):
    """A container: children are drawn in insertion order (later on top), positioned relative to it.

    Group opacity multiplies into each child's own alpha (overlapping children inside a half
    transparent group show through each other, unlike a flattened layer; cheaper and rarely visible).
    """

    def __init__(self, *children: Node, x: int = 0, y: int = 0, visible: bool = True, opacity: float = 1.0) -> None:
        super().__init__(x=x, y=y, visible=visible, opacity=opacity)
        self._children: list[Node] = []
        for child in children:
            self.add(child)

    @property
    def children(self) -> tuple[Node, ...]:
        return tuple(self._children)

    def __iter__(self) -> Iterator[Node]:
        return iter(tuple(self._children))

    def __len__(self) -> int:
        return len(self._children)

    def add(self, node: Node, *more: Node) -> Node:
        """Append node(s) on top of the existing children; returns the first one for chaining."""
        for n in (node, *more):
            if not isinstance(n, Node):
                raise TypeError(f"Group.add expects scene nodes, got {type(n).__name__}")
            if n._parent is not None:
                raise ValueError(f"{n!r} already belongs to a group; remove it there first")
            if n is self or (isinstance(n, Group) and self._is_descendant_of(n)):
                raise ValueError("a group cannot contain itself")
            n._parent = self
            self._children.append(n)
            for d in _walk(n):
                d._attach(self._stage)
        return node

    def remove(self, node: Node) -> None:
        """Take a child off the graph; the area it covered is redrawn at the next render."""
        self._children.remove(node)
        node._parent = None
        for d in _walk(node):
            if self._stage is not None and d._drawn is not None:
                self._stage._damage(d._drawn)
            d._drawn = None
            d._stage = None

    def clear(self) -> None:
        for child in tuple(self._children):
            self.remove(child)

    def _is_descendant_of(self, other: "Group") -> bool:
        p: Node | None = self
        while p is not None:
            if p is other:
                return True
            p = p._parent
        return False

    def _changed(self) -> None:
        # Position, visibility and opacity of a group change how every descendant is drawn.
        for d in _walk(self):
            if not isinstance(d, Group):
                Node._changed(d)

    def _attach(self, stage: "Stage | None") -> None:
        self._stage = stage

    def local_bounds(self) -> Rect:
        hull = Rect(self._x, self._y, 0, 0)
        for child in self._children:
            hull = hull.union(child.local_bounds().moved(self._x, self._y))
        return hull

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        pass  # children are drawn by the compositor


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Group):
        for child in node._children:
            yield from _walk(child)


def leaves(root: Node) -> Iterator[tuple[Node, int, int, float]]:
    """Visible drawable nodes in z-order with their absolute parent origin and effective opacity."""

    def visit(node: Node, ox: int, oy: int, op: float) -> Iterator[tuple[Node, int, int, float]]:
        if not node._visible:
            return
        op *= node._opacity
        if op <= 0.0:
            return
        if isinstance(node, Group):
            for child in node._children:
                yield from visit(child, ox + node._x, oy + node._y, op)
        else:
            yield node, ox, oy, op

    yield from visit(root, 0, 0, 1.0)

"""What scene authors use: the retained, damage-tracked scene graph and its nodes.

    from streamer.scene import Stage, Group, Background, Text, Panel, Image, TerminalView
    stage = Stage(1280, 720)
    stage.root.add(Background("#101018"), Text("Hello", x=40, y=40, size=48))
    damaged = stage.render()      # list[Rect]; stage.frame is updated in place

See ``streamer.scene.loader`` for the scene-module contract.
"""

from . import fonts
from .geometry import Rect
from .logfollow import LogFollower
from .node import Group, Node
from .nodes import Background, Image, Panel
from .stage import Stage
from .terminal import TerminalView
from .text import Text

__all__ = [
    "Background", "Group", "Image", "LogFollower", "Node", "Panel", "Rect", "Stage", "TerminalView", "Text", "fonts",
]

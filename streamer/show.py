"""The seam where a scene module meets the media pipeline.

``SceneSource`` is the pipeline's ``FrameSource``: each frame it lets the scene module update its graph for
the stream time, then asks the stage for the damaged regions. Exceptions from the scene are not handled
here on purpose: the pipeline logs them (rate-limited, with the traceback) and keeps the last good frame
on air, so a scene bug never stops the stream.
"""

from __future__ import annotations

import argparse
import collections
from typing import Sequence

import numpy as np

from streamer.scene import Stage
from streamer.scene.loader import SceneModule


class SceneSource:
    """A loaded scene module plus the stage it draws on, seen as a frame source."""

    def __init__(self, module: SceneModule, options: argparse.Namespace, *, width: int = 1280, height: int = 720):
        self.module = module
        self.stage = Stage(width=width, height=height)
        self.width = width
        self.height = height
        # Comments arrive on the comment-poll thread but the graph belongs to the frame thread: hand them
        # over through a bounded deque (oldest dropped under a flood) and deliver them before the next update.
        self._pending_comments: collections.deque[object] = collections.deque(maxlen=200)
        # setup() runs before anything goes on air, so its errors stop the command cleanly.
        module.setup(self.stage, options)
        self._update = module.update  # looked up once: render() runs every frame
        # Row moves the last ``render()`` applied before drawing its damage (the stage's ``moves``): a
        # plain attribute, read by the pipeline every frame.
        self.moves: Sequence[tuple[tuple[int, int, int, int], int]] = ()

    @property
    def frame(self) -> np.ndarray:
        return self.stage.frame

    @property
    def frame_buffer(self) -> np.ndarray:
        """``frame`` without bringing moved rows up to date (see ``Stage``); read rows via ``refresh_rows``."""
        return self.stage.frame_buffer

    def refresh_rows(self, y0: int, y1: int) -> None:
        self.stage.refresh(y0, y1)

    def render(self, t: float) -> Sequence[tuple[int, int, int, int]]:
        while self._pending_comments:
            self.module.on_comment(self.stage, self._pending_comments.popleft())
        self._update(self.stage, t)
        rects = self.stage.render()
        self.moves = self.stage.moves
        return rects

    def deliver_comment(self, comment: object) -> None:
        """Queue a viewer comment for the scene's ``on_comment``; safe to call from any thread."""
        self._pending_comments.append(comment)

    def close(self) -> None:
        self.module.teardown(self.stage)

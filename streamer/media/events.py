"""Events an output reports to whoever drives the pipeline (the CLI, later the go-live loop)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

OutputEventKind = Literal["connected", "error", "closed"]


@dataclass(frozen=True)
class OutputEvent:
    """Something that happened to an output connection.

    ``reason`` is human readable and never contains a stream key (see ``streamer.redact``).
    ``generation`` counts outputs of one pipeline (0 for the first, +1 per ``switch_output``) so a
    late event from an output that was already replaced can be told apart.
    """

    kind: OutputEventKind
    reason: str = ""
    generation: int = 0
    at: float = field(default_factory=time.monotonic)

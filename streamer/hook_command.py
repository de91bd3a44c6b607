"""Run an operator- or agent-supplied command with a JSON document on stdin (the hooks' shared mechanism)."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence

log = logging.getLogger(__name__)


def run_hook_command(command: Sequence[str], payload: str, *, timeout: float, what: str) -> bool:
    """Run ``command`` with ``payload`` (one JSON document) on stdin; True if it exited 0 within ``timeout``.

    Failures are logged, never raised: a broken hook must not end the show. ``what`` names the hook in logs.
    """
    try:
        done = subprocess.run(list(command), input=payload + "\n", text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        log.error("%s command did not finish within %.0f s (killed): %s", what, timeout, command[0])
        return False
    except OSError as exc:
        log.error("cannot run %s command %s: %s", what, command[0], exc)
        return False
    if done.returncode != 0:
        log.error("%s command exited %d: %s", what, done.returncode, done.stderr.strip()[-300:])
        return False
    return True

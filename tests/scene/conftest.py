import time
from typing import Callable

import pytest


def _wait_until(pred: Callable[[], object], timeout: float = 5.0, interval: float = 0.005, what: str = "") -> object:
    """Poll ``pred`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or pred}")
        time.sleep(interval)  # polling interval of a condition wait, not synchronisation


@pytest.fixture
def wait_until():
    return _wait_until

"""Shift a band of rows inside one image plane, in place, without a temporary copy.

A terminal scroll moves almost the whole YUV picture up by one text line, five times a second.  numpy's ``a[0:n] = a[d:d + n]`` sees the overlap and first copies the
source into a fresh temporary (an allocation plus twice the memory traffic); a row band of a C-ordered
array is one contiguous run of bytes, so one ``memmove`` (which handles overlap) does it in place.
"""

from __future__ import annotations

import ctypes

import numpy as np


def move_rows(plane: np.ndarray, src: int, dst: int, count: int) -> None:
    """Copy rows ``[src, src + count)`` of ``plane`` to ``[dst, dst + count)`` (ranges may overlap).

    Rows are the first axis.  The caller checks the bounds; both ranges must lie inside ``plane``.
    """
    if count <= 0 or src == dst:
        return
    if not (0 <= src and 0 <= dst and src + count <= plane.shape[0] and dst + count <= plane.shape[0]):
        raise ValueError(f"row move {src}->{dst} x{count} outside a plane of {plane.shape[0]} rows")
    if plane.flags.c_contiguous and plane.flags.writeable:
        row_bytes = plane.strides[0]
        base = plane.ctypes.data
        ctypes.memmove(base + dst * row_bytes, base + src * row_bytes, count * row_bytes)
    else:
        plane[dst:dst + count] = plane[src:src + count]  # numpy copes with the overlap, just slower

"""JPEG thumbnails of an RGB frame (runs in the caller's thread, never in the frame loop)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode_jpeg(rgb: np.ndarray, max_width: int | None = 1280, quality: int = 85) -> bytes:
    """JPEG bytes of an ``(h, w, 3)`` uint8 RGB array, downscaled to ``max_width`` if it is wider."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB array, got shape {rgb.shape} dtype {rgb.dtype}")
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be 1..95, got {quality}")
    image = Image.fromarray(rgb, "RGB")
    if max_width is not None and image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()

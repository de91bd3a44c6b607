"""Thumbnails of the latest in-memory frame."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from streamer.media.pipeline import Pipeline
from streamer.media.thumbnail import encode_jpeg
from test_pipeline_support import BACKGROUND_BOTTOM, RED, SyntheticSource, assert_colour, wait_until


def test_thumbnail_is_a_jpeg_of_the_current_frame(tmp_path):
    source = SyntheticSource(rect_from=0.0)
    pipe = Pipeline(source)
    pipe.start(str(tmp_path / "thumb.flv"))
    assert wait_until(lambda: pipe.stats.frames_rendered >= 5, timeout=10)
    jpeg = pipe.thumbnail_jpeg(max_width=640, quality=85)
    frame = pipe.latest_frame()
    pipe.stop()

    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and image.size == (640, 360)
    pixels = np.asarray(image.convert("RGB"))
    assert_colour(pixels[300:350, 100:600], BACKGROUND_BOTTOM)
    # The red box in the thumbnail sits where it is in the latest frame (half scale).
    ys, xs = np.nonzero((frame[:, :, 0] > 200) & (frame[:, :, 1] < 60))
    y0, y1, x0, x1 = ys.min() // 2, ys.max() // 2, xs.min() // 2, xs.max() // 2
    assert_colour(pixels[y0 + 5 : y1 - 5, x0 + 5 : x1 - 5], RED, tolerance=20)


def test_encode_jpeg_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8 RGB"):
        encode_jpeg(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="quality"):
        encode_jpeg(np.zeros((10, 10, 3), np.uint8), quality=0)
    full = Image.open(io.BytesIO(encode_jpeg(np.full((20, 30, 3), 200, np.uint8), max_width=None)))
    assert full.size == (30, 20)

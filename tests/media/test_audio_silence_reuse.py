"""Steady silence is served from a cached AAC packet; the stream must decode exactly as if encoded."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from streamer.media.audio import AAC_FRAME_SAMPLES
from streamer.media.encoders import AudioEncoder
from streamer.media.settings import EncoderSettings

# silence, a tone, silence again, a tone: exercises entering and leaving the cached mode twice
PATTERN = [False] * 12 + [True] * 6 + [False] * 12 + [True] * 4 + [False] * 9


def chunk(tone: bool, index: int) -> np.ndarray:
    if not tone:
        return np.zeros((2, AAC_FRAME_SAMPLES), np.float32)
    t = (np.arange(AAC_FRAME_SAMPLES) + index * AAC_FRAME_SAMPLES) / 44100
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([wave, wave])


def encode_and_decode(reuse_silence: bool, runs: bool = False) -> tuple[list[int], np.ndarray, int]:
    """Encode PATTERN; ``runs``: serve cached silence through ``encode_silence``, two frames per call
    where it can (as the pipeline does), instead of one ``encode`` call per frame."""
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format="flv")
    encoder = AudioEncoder.in_container(container, EncoderSettings())
    cached = 0
    skip = set()
    for index, tone in enumerate(PATTERN):
        if index in skip:
            continue
        if runs and not tone and encoder.silence_cached:
            count = 2 if index + 1 < len(PATTERN) and not PATTERN[index + 1] else 1
            packets = encoder.encode_silence(index * AAC_FRAME_SAMPLES, count)
            skip.update(range(index, index + count))
        else:
            packets = encoder.encode(chunk(tone, index), index * AAC_FRAME_SAMPLES,
                                     silent=reuse_silence and not tone)
        cached += sum(1 for p in packets if p.size == 6) if reuse_silence and not tone else 0
        container.mux(packets)
    container.mux(encoder.flush())
    container.close()
    buffer.seek(0)
    with av.open(buffer, "r", format="flv") as reader:
        stream = reader.streams.audio[0]
        pts, pcm = [], []
        for packet in reader.demux(stream):
            if packet.pts is None:
                continue
            pts.append(packet.pts)
            for frame in packet.decode():
                pcm.append(frame.to_ndarray())
    return pts, np.concatenate(pcm, axis=1), cached


@pytest.mark.parametrize("runs", [False, True], ids=["frame-by-frame", "silence-runs"])
def test_cached_silence_decodes_like_the_encoder_output(runs: bool):
    ref_pts, ref_pcm, _ = encode_and_decode(reuse_silence=False)
    pts, pcm, cached = encode_and_decode(reuse_silence=True, runs=runs)
    assert cached > 5, "steady silence was never served from the cache"
    # Same timeline: one packet per 1024 samples, strictly increasing, no gap or duplicate.
    steps = np.diff(pts)
    # (the pattern ends in steady silence, so the flush is served from the cache too)
    assert len(pts) == len(ref_pts) and (steps > 0).all(), (pts, ref_pts)
    # FLV stores milliseconds: 1024 samples are 23 or 24 ms.
    assert set(steps.tolist()) <= {23, 24}
    assert pcm.shape == ref_pcm.shape
    assert np.abs(pcm - ref_pcm).max() < 1e-3, "cached silence changed the decoded audio"
    # And the tones really are there (the test would pass vacuously on all-zero audio otherwise).
    assert np.abs(pcm).max() > 0.3


def test_encode_silence_reuses_its_packet_objects_with_fresh_timestamps():
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format="flv")
    encoder = AudioEncoder.in_container(container, EncoderSettings())
    index = 0
    while not encoder.silence_cached:
        container.mux(encoder.encode(chunk(False, index), index * AAC_FRAME_SAMPLES, silent=True))
        index += 1
    first = encoder.encode_silence(index * AAC_FRAME_SAMPLES, 2)
    first_pts = [p.pts for p in first]
    container.mux(first)  # rebases the packets' timestamps to the stream's (FLV: milliseconds)
    second = encoder.encode_silence((index + 2) * AAC_FRAME_SAMPLES, 2)
    assert [id(p) for p in second] == [id(p) for p in first], "made new packets instead of reusing them"
    assert [p.pts for p in second] == [pts + 2 * AAC_FRAME_SAMPLES for pts in first_pts]
    assert all(p.time_base == Fraction(1, 44100) and p.duration == AAC_FRAME_SAMPLES for p in second)
    container.mux(second)
    container.close()

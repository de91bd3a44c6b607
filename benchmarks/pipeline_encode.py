"""Per-frame cost of the media pipeline's hot path, without pacing: render → YUV bands → H.264 + AAC → FLV.

    python benchmarks/pipeline_encode.py [--seconds 20] [--json]

Cases: ``static`` (nothing changes), ``scrolling`` (a terminal-like text area scrolls one 16-px line
5 times a second), ``full`` (the whole frame changes every frame).  For each it prints render, convert and
encode ms (p50/p95/p99), CPU-seconds per stream-minute, and the libx264 floor: the CPU libx264 alone
spent on the same YUV frames.  CPU is process CPU time (``time.process_time``) around each step.
Run from the repository root (it imports ``streamer``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from streamer.media.audio import AAC_FRAME_SAMPLES, AudioTrack, SilenceSource  # noqa: E402
from streamer.media.clock import StreamClock  # noqa: E402
from streamer.media.encoders import AudioEncoder, VideoEncoder  # noqa: E402
from streamer.media.settings import EncoderSettings  # noqa: E402
from streamer.media.yuv import YuvFrameStore  # noqa: E402

W, H, LINE = 1280, 720, 16


class BenchSource:
    """Green-on-black pseudo text; ``mode`` decides what changes."""

    def __init__(self, mode: str, seed: int = 7) -> None:
        self.mode = mode
        self.rng = np.random.default_rng(seed)
        self.frame = np.zeros((H, W, 3), np.uint8)
        self.frame[:] = self._text_rows(H)
        self._last_scroll = 0.0

    def _text_rows(self, rows: int) -> np.ndarray:
        glyphs = (self.rng.random((rows // 2, W // 8)) < 0.3).astype(np.uint8) * 255
        mask = np.repeat(np.repeat(glyphs, 2, axis=0), 8, axis=1)
        mask[:, ::8] = 0
        out = np.zeros((rows, W, 3), np.uint8)
        out[..., 1] = mask
        return out

    def render(self, t: float, slot: int) -> list[tuple[int, int, int, int]]:
        if self.mode == "static":
            return []
        if self.mode == "full":
            self.frame[:] = self._text_rows(H)
            return [(0, 0, W, H)]
        if t - self._last_scroll >= 0.2:  # 5 lines per second
            self._last_scroll = t
            self.frame[:-LINE] = self.frame[LINE:]  # slice move, like the terminal's framebuffer scroll
            self.frame[-LINE:] = self._text_rows(LINE)
            return [(0, 0, W, H)]
        return []


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(statistics.median(ordered), 3), "p95": round(pick(0.95), 3), "p99": round(pick(0.99), 3)}


def run_case(mode: str, seconds: float, settings: EncoderSettings) -> dict:
    clock = StreamClock(settings.fps, settings.sample_rate)
    source = BenchSource(mode)
    store = YuvFrameStore(W, H)
    store.update_all(source.frame)
    container = av.open(io.BytesIO(), "w", format="flv")
    video = VideoEncoder.in_container(container, settings)
    audio = AudioEncoder.in_container(container, settings)
    track = AudioTrack(SilenceSource())
    audio_pos = 0
    frames = int(seconds * settings.fps)
    wall = {"render": [], "convert": [], "encode": [], "total": []}
    cpu = {"render": 0.0, "convert": 0.0, "x264": 0.0, "audio": 0.0, "mux": 0.0}
    cpu_start = time.process_time()
    for slot in range(frames):
        t = clock.stream_time(slot)
        w0, c0 = time.perf_counter(), time.process_time()
        rects = source.render(t, slot)
        w1, c1 = time.perf_counter(), time.process_time()
        store.update(source.frame, rects)
        w2, c2 = time.perf_counter(), time.process_time()
        packets = video.encode(store.frame, slot)
        w3, c3 = time.perf_counter(), time.process_time()
        needed = clock.samples_at(slot + 1)
        while audio_pos < needed:
            packets += audio.encode(track.samples(audio_pos, AAC_FRAME_SAMPLES), audio_pos)
            audio_pos += AAC_FRAME_SAMPLES
        w4, c4 = time.perf_counter(), time.process_time()
        container.mux(packets)
        w5, c5 = time.perf_counter(), time.process_time()
        wall["render"].append((w1 - w0) * 1000)
        wall["convert"].append((w2 - w1) * 1000)
        wall["encode"].append((w4 - w2) * 1000)
        wall["total"].append((w5 - w0) * 1000)
        cpu["render"] += c1 - c0
        cpu["convert"] += c2 - c1
        cpu["x264"] += c3 - c2
        cpu["audio"] += c4 - c3
        cpu["mux"] += c5 - c4
    total_cpu = time.process_time() - cpu_start
    container.close()
    per_min = 60.0 / seconds
    return {
        "render_ms": percentiles(wall["render"]),
        "convert_ms": percentiles(wall["convert"]),
        "encode_ms": percentiles(wall["encode"]),
        "render_encode_ms": percentiles(wall["total"]),
        "cpu_s_per_min": round(total_cpu * per_min, 2),
        "x264_floor_cpu_s_per_min": round(cpu["x264"] * per_min, 2),
        "convert_cpu_s_per_min": round(cpu["convert"] * per_min, 2),
        "audio_cpu_s_per_min": round(cpu["audio"] * per_min, 2),
        "render_cpu_s_per_min": round(cpu["render"] * per_min, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="stream seconds per case (default 20)")
    parser.add_argument("--cases", default="static,scrolling,full")
    parser.add_argument("--json", action="store_true", help="print one JSON object keyed by case")
    args = parser.parse_args(argv)
    settings = EncoderSettings()
    results = {case: run_case(case, args.seconds, settings) for case in args.cases.split(",")}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for case, r in results.items():
        print(f"{case:>9}: render+encode p50/p95/p99 {r['render_encode_ms']['p50']}/"
              f"{r['render_encode_ms']['p95']}/{r['render_encode_ms']['p99']} ms | "
              f"convert p50 {r['convert_ms']['p50']} ms | CPU {r['cpu_s_per_min']} s/min "
              f"(x264 floor {r['x264_floor_cpu_s_per_min']}, convert {r['convert_cpu_s_per_min']}, "
              f"audio {r['audio_cpu_s_per_min']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

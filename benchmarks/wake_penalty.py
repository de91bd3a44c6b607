"""What the same scene work costs warm, right after an H.264 encode, and right after a frame's sleep.

    python benchmarks/wake_penalty.py [--repeats 200]

Why the pipeline renders one frame ahead (see ``Pipeline._frame``): on a small VM a thread that slept for a
frame finds the caches and TLB cold, and the Python that runs first after the wake-up pays for it.  This
prints the median wall time of two pieces of the terminal scene's work (a frame with nothing new, and one
log line scrolling in: feed, render, YUV update) in three states:

  warm          run back to back
  after encode  right after a libx264 encode of the frame (what rendering ahead gives)
  after sleep   right after a 30 ms sleep (what rendering right after the wake-up gets)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamer.media.encoders import VideoEncoder  # noqa: E402
from streamer.media.settings import EncoderSettings  # noqa: E402
from streamer.media.yuv import YuvFrameStore  # noqa: E402
from streamer.scene.loader import load_scene  # noqa: E402
from streamer.show import SceneSource  # noqa: E402

LINE = "[{n:06d}] agent step {n}: fetched 3 pages, summarised 2 of them, next: compare the results and write up\n"


def median_us(work: Callable[[], None], before: Callable[[int], None], repeats: int) -> float:
    samples = []
    for i in range(repeats):
        before(i)
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="samples per figure (default: 200)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "wake.log"
        log.write_text("".join(LINE.format(n=-i) for i in range(60, 0, -1)))
        source = SceneSource(load_scene(REPO / "scenes" / "terminal.py"), Namespace(log=str(log)))
        try:
            store = YuvFrameStore(source.width, source.height)
            source.render(0.0)
            store.update_all(source.frame)
            encoder = VideoEncoder.standalone(EncoderSettings())
            term, lines = source.stage.state.term, iter(range(10**9))

            def idle_frame() -> None:
                source.render(1.0)

            def scroll_frame() -> None:
                term.feed(LINE.format(n=next(lines)))
                rects = source.render(1.0)
                store.update(source.frame_buffer, rects, source.moves, source.refresh_rows)

            states: dict[str, Callable[[int], None]] = {
                "warm": lambda i: None,
                "after encode": lambda i: encoder.encode(store.frame, i),
                "after sleep": lambda i: time.sleep(0.03),
            }
            print(f"median us over {args.repeats} samples")
            print(f"{'':>14} | {'idle frame':>10} | {'log line scroll':>15}")
            for name, before in states.items():
                idle = median_us(idle_frame, before, args.repeats)
                scroll = median_us(scroll_frame, before, args.repeats)
                print(f"{name:>14} | {idle:10.1f} | {scroll:15.1f}")
        finally:
            source.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Frame budget of the terminal scene through the real pipeline, paced at 30 fps like a live stream.

    python benchmarks/frame_budget.py [--seconds 20] [--cases static,scrolling,worst] [--json] [--check]

Cases (the terminal scene, scenes/terminal.py, following a real log file):
  static     45 lines on screen, nothing changes
  scrolling  a line appended to the log 5 times a second (the terminal scrolls)
  worst      the whole screen rewritten every frame (45 full-width lines fed straight to the terminal)

For each case it prints per-frame render and render+encode wall times (p50/p95/p99 ms, where render+encode =
scene update + damage redraw + RGB→YUV of the damaged rows + H.264 + AAC + handing packets to the muxer),
CPU-seconds per stream-minute of the whole process (every thread: frame loop, writer thread, log follower; the
log is written by a child process, as an agent would write it), and the libx264 floor: the CPU libx264 alone
spent on the same YUV frames (thread CPU of the encode calls, with threads=1), per stream-minute.
It also prints where that CPU went, thread by thread (Linux: /proc schedstat), over the same window.
``--json`` prints one JSON object keyed by case and figure, e.g. ``scrolling.render_encode_ms.p99``.
``--check`` exits non-zero when the scrolling case's p99 render+encode exceeds the 33.3 ms frame budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamer.media.pipeline import FrameTiming, Pipeline  # noqa: E402
from streamer.media.settings import EncoderSettings  # noqa: E402
from streamer.scene.loader import load_scene  # noqa: E402
from streamer.show import SceneSource  # noqa: E402

FRAME_BUDGET_MS = 1000 / 30
LINE = "[{n:06d}] agent step {n}: fetched 3 pages, summarised 2 of them, next: compare the results and write up\n"


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(statistics.median(ordered), 2), "p95": round(pick(0.95), 2), "p99": round(pick(0.99), 2)}


class LogWriter:
    """Appends a line every 1/rate seconds of wall time, like an agent narrating its work.

    It runs in a child process, as the agent would: its CPU is not the streamer's and must not be
    counted in the process CPU this benchmark reports."""

    SCRIPT = (
        "import sys, time\n"
        "path, rate, line = sys.argv[1], float(sys.argv[2]), sys.argv[3]\n"
        "start, n = time.monotonic(), 0\n"
        "with open(path, 'a', buffering=1) as log:\n"
        "    while True:\n"
        "        time.sleep(max(0.0, start + n / rate - time.monotonic()))\n"
        "        log.write(line.format(n=n))\n"
        "        n += 1\n"
    )

    def __init__(self, path: Path, rate: float) -> None:
        self.path, self.rate = path, rate
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(self.path), str(self.rate), LINE])

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


class FullRewrite:
    """Wraps the scene module: before every frame, repaint all rows of the terminal with new text."""

    def __init__(self, module) -> None:
        self.module, self.n = module, 0

    def __getattr__(self, name):
        return getattr(self.module, name)

    def update(self, stage, t: float) -> None:
        self.module.update(stage, t)
        term = stage.state.term
        self.n += 1
        width = term.columns
        rows = [(f"{self.n:08d} " + "abcdefghij" * (width // 10 + 1))[:width] for _ in range(term.rows)]
        term.feed("\x1b[H" + "\r\n".join(rows))


def thread_cpu_ns() -> dict[str, int]:
    """CPU nanoseconds each thread of this process has run (Linux /proc schedstat; {} elsewhere), keyed by
    Python thread name; threads Python did not start (numpy's BLAS pool, ...) are summed as one."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    result: dict[str, int] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return result
    for tid in tids:
        try:
            ns = int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
        name = names.get(int(tid), "native threads")
        result[name] = result.get(name, 0) + ns
    return result


class Recorder:
    """Collects frame timings, and the process CPU clock over the steady state: from a warm-up second
    (in which encoder start-up, imports and the first full draw would otherwise weigh on a short run)
    to the last whole second before the end.  The CPU clock is read only at those two frames: reading
    it costs a system call, and this hook runs in the frame thread whose CPU it measures."""

    WARMUP_FRAMES = 30

    def __init__(self, end_slot: int) -> None:
        self.timings: list[FrameTiming] = []
        self.end_slot = end_slot
        self.cpu_start = self.cpu_end = 0.0
        self.threads_start: dict[str, int] = {}
        self.threads_end: dict[str, int] = {}
        self.window: tuple[int, int] | None = None  # (first, last) index into timings

    def __call__(self, timing: FrameTiming) -> None:
        timings = self.timings
        timings.append(timing)
        if len(timings) == self.WARMUP_FRAMES:
            self.threads_start = thread_cpu_ns()
            self.cpu_start = time.process_time()
        elif self.window is None and timing.slot >= self.end_slot and len(timings) > self.WARMUP_FRAMES:
            self.cpu_end = time.process_time()
            self.threads_end = thread_cpu_ns()
            self.window = (self.WARMUP_FRAMES, len(timings))

    @property
    def steady(self) -> list[FrameTiming]:
        if self.window is None:
            raise RuntimeError("the run ended before the measurement window closed; give it more --seconds")
        first, last = self.window
        return self.timings[first:last]


def run_case(case: str, seconds: float, workdir: Path) -> dict:
    log_path = workdir / f"{case}.log"
    log_path.write_text("".join(LINE.format(n=-i) for i in range(60, 0, -1)))
    module = load_scene(REPO / "scenes" / "terminal.py")
    if case == "worst":
        module = FullRewrite(module)
    source = SceneSource(module, Namespace(log=str(log_path)))
    recorder = Recorder(end_slot=int(seconds * 30) - 30)
    pipeline = Pipeline(source, EncoderSettings(), health_interval=3600, on_frame=recorder)
    writer = LogWriter(log_path, 5.0) if case == "scrolling" else None
    wall0 = time.monotonic()
    pipeline.start(str(workdir / f"{case}.flv"))
    if writer:
        writer.start()
    try:
        stats = pipeline.run(duration=seconds)
    finally:
        if writer:
            writer.stop()
        pipeline.stop()
        source.close()
    steady = recorder.steady
    # Stream time covered by the steady window: slots, so skipped frames count as stream time too.
    stream_minutes = (steady[-1].slot - steady[0].slot) / 30 / 60
    cpu = recorder.cpu_end - recorder.cpu_start
    return {
        "render_ms": percentiles([t.render_ms for t in steady]),
        "render_encode_ms": percentiles([t.total_ms for t in steady]),
        "cpu_s_per_min": round(cpu / stream_minutes, 2),
        "x264_floor_cpu_s_per_min": round(sum(t.video_encoder_cpu_ms for t in steady[1:]) / 1000 / stream_minutes, 2),
        # Threads alive at both ends of the window (the frame loop, the log follower, the file writer, ...).
        "thread_cpu_s_per_min": {
            name: round((ns - recorder.threads_start[name]) / 1e9 / stream_minutes, 3)
            for name, ns in sorted(recorder.threads_end.items()) if name in recorder.threads_start
        },
        "frames": len(recorder.timings),
        "frames_skipped": stats.frames_skipped,
        "wall_s": round(time.monotonic() - wall0, 1),
    }


def flatten(results: dict) -> dict:
    flat = {}
    for case, figures in results.items():
        for name, value in figures.items():
            if isinstance(value, dict):
                for q, v in value.items():
                    flat[f"{case}.{name}.{q}"] = v
            else:
                flat[f"{case}.{name}"] = value
    return flat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="stream seconds per case (default: 20)")
    parser.add_argument("--cases", default="static,scrolling,worst", help="comma-separated cases")
    parser.add_argument("--json", action="store_true", help="print one JSON object keyed by case and figure")
    parser.add_argument("--check", action="store_true",
                        help="fail when scrolling p99 render+encode exceeds the 33.3 ms frame budget")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = {case: run_case(case, args.seconds, Path(tmp)) for case in args.cases.split(",")}
    for figures in results.values():
        floor = figures["x264_floor_cpu_s_per_min"]
        figures["cpu_over_x264_floor"] = round(figures["cpu_s_per_min"] / floor, 3) if floor else None
    if args.json:
        print(json.dumps(flatten(results), indent=1, sort_keys=True))
    else:
        print(f"terminal scene, 1280x720@30, libx264 veryfast/zerolatency 1500k, {args.seconds:.0f} s paced per case")
        print(f"{'case':>9} | {'render ms p50/p95/p99':>22} | {'render+encode ms p50/p95/p99':>28} | "
              f"{'CPU s/min':>9} | {'x264 floor':>10} | ratio | skipped")
        for case, r in results.items():
            re, rn = r["render_encode_ms"], r["render_ms"]
            print(f"{case:>9} | {rn['p50']:6.2f}/{rn['p95']:6.2f}/{rn['p99']:6.2f}   | "
                  f"{re['p50']:8.2f}/{re['p95']:8.2f}/{re['p99']:8.2f}   | {r['cpu_s_per_min']:9.2f} | "
                  f"{r['x264_floor_cpu_s_per_min']:10.2f} | {r['cpu_over_x264_floor'] or 0:5.3f} | "
                  f"{r['frames_skipped']}")
            busy = sorted(r["thread_cpu_s_per_min"].items(), key=lambda item: -item[1])
            print(f"{'':>9} | CPU s/min by thread: "
                  + ", ".join(f"{name} {cpu:.2f}" for name, cpu in busy if cpu >= 0.005))
    if args.check and "scrolling" in results:
        p99 = results["scrolling"]["render_encode_ms"]["p99"]
        if p99 > FRAME_BUDGET_MS:
            print(f"FAIL: scrolling p99 render+encode {p99:.2f} ms exceeds the {FRAME_BUDGET_MS:.1f} ms frame budget",
                  file=sys.stderr)
            return 1
        print(f"ok: scrolling p99 render+encode {p99:.2f} ms within the {FRAME_BUDGET_MS:.1f} ms frame budget")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

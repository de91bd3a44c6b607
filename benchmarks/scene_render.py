"""How long ``stage.render()`` takes for the terminal scene, frame by frame, in real time.

    python benchmarks/scene_render.py [--seconds 10] [--json]

Cases (each paced at 30 fps on the wall clock, the log written by this process):
  static     a full screen of log, nothing new: the common idle frame
  scrolling  one new log line every 6 frames (5 lines/s), followed through the real LogFollower
  rewrite    the whole 160x45 screen rewritten every frame (fed straight to the TerminalView, so the
             follower's per-frame byte budget does not hide the cost of redrawing every row)
  flood      a full screen of new log lines appended every frame (~220 KB/s) through the follower:
             the scene's byte budget and skip-ahead bound the work per frame

For each: p50/p95/p99 ms of update() (log drain + terminal emulation) and of render(), and the
process CPU-seconds per stream-minute (follower thread included).  No encoding here; that is
benchmarks/frame_budget.py's job.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer.scene import Stage  # noqa: E402
from streamer.scene.loader import load_scene  # noqa: E402

SCENE = Path(__file__).resolve().parents[1] / "scenes" / "terminal.py"
FPS = 30


def percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples) * 1000.0
    return {f"p{p}": round(float(np.percentile(a, p)), 3) for p in (50, 95, 99)}


def run_case(case: str, seconds: float, workdir: Path) -> dict:
    log = workdir / f"{case}.log"
    log.write_bytes(b"".join(b"%s boot line %03d: service started, all good\n" % (case.encode(), i) for i in range(60)))
    scene = load_scene(SCENE)
    stage = Stage(1280, 720)
    scene.setup(stage, argparse.Namespace(log=str(log)))
    term = stage.state.term
    # Let the follower read the existing screenful, then start from a settled frame.
    deadline = time.monotonic() + 5
    while not any("line 059" in line for line in term.display()) and time.monotonic() < deadline:
        scene.update(stage, 0.0)
        stage.render()
        time.sleep(0.01)
    frames = int(seconds * FPS)
    update_s: list[float] = []
    render_s: list[float] = []
    damaged_px = 0
    cols, rows = term.columns, term.rows
    start = time.monotonic()
    cpu0 = time.process_time()
    with open(log, "ab", buffering=0) as out:
        for n in range(frames):
            t = n / FPS
            if case == "flood":
                out.write(b"".join(b"%06d flood %02d " % (n, r) + b"x" * (cols - 20) + b"\n" for r in range(rows)))
            if case == "scrolling" and n % 6 == 0:
                out.write(b"%s %.2f worker-%d handled request %d in %d ms\n" % (time.strftime("%H:%M:%S").encode(), t, n % 7, n, n % 50))
            t0 = time.perf_counter()
            if case == "rewrite":
                screen = "".join(f"{n:06d} row {r:02d} " + chr(0x41 + (n + r) % 26) * (cols - 14) for r in range(rows))
                term.feed("\x1b[H" + screen)
            scene.update(stage, t)
            t1 = time.perf_counter()
            damage = stage.render()
            t2 = time.perf_counter()
            update_s.append(t1 - t0)
            render_s.append(t2 - t1)
            damaged_px += sum(r.w * r.h for r in damage)
            delay = start + (n + 1) / FPS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - start
    scene.teardown(stage)
    return {
        "update_ms": percentiles(update_s),
        "render_ms": percentiles(render_s),
        "cpu_s_per_min": round(cpu * 60.0 / wall, 2),
        "damaged_fraction": round(damaged_px / (frames * 1280 * 720), 4),
        "frames": frames,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="stream seconds per case (default 10)")
    parser.add_argument("--cases", default="static,scrolling,rewrite,flood")
    parser.add_argument("--json", action="store_true", help="print one JSON object keyed by case")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            results[case] = run_case(case, args.seconds, Path(tmp))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'case':<10} {'what':<8} {'p50':>8} {'p95':>8} {'p99':>8}   (ms per frame)")
    for case, r in results.items():
        for what in ("update", "render"):
            p = r[f"{what}_ms"]
            print(f"{case:<10} {what:<8} {p['p50']:8.3f} {p['p95']:8.3f} {p['p99']:8.3f}")
        print(f"{case:<10} cpu {r['cpu_s_per_min']} CPU-s/stream-min, damaged {r['damaged_fraction']:.1%} of pixels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

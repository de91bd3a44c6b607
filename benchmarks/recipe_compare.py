"""CPU per stream-minute: the platform recipe (Xvfb + xterm + ffmpeg x11grab) against streamer, one run.

Not part of CI (it needs Debian's xvfb, xterm, openbox and ffmpeg, which streamer itself never uses):

    apt-get install -y xvfb xterm openbox ffmpeg
    python benchmarks/recipe_compare.py --seconds 60 [--json]

Both sides show the same log scrolling at 5 lines/s (or a static one with --static), encode with the same
settings (libx264 veryfast/zerolatency 1500k, g 60, AAC 128k) and write FLV to a local file, so only the
way frames are produced differs. CPU is user+system time of every process involved, read from /proc (the
recipe) or from the child's rusage (streamer), divided by the stream minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RECIPE_FFMPEG = [
    "ffmpeg", "-loglevel", "error", "-y", "-thread_queue_size", "512",
    "-f", "x11grab", "-video_size", "1280x720", "-framerate", "30", "-i", ":99",
    "-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=44100",
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
    "-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "3000k",
    "-pix_fmt", "yuv420p", "-g", "60", "-c:a", "aac", "-b:a", "128k", "-f", "flv",
]


def write_log(path: Path, stop: threading.Event, lines_per_second: float) -> None:
    """Append numbered lines at a steady rate, like an agent narrating its work."""
    n = 0
    start = time.monotonic()
    with open(path, "a", buffering=1) as log:
        while not stop.is_set():
            due = start + n / lines_per_second
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            log.write(f"[{n:06d}] agent step {n}: fetched 3 pages, summarised 2, next: compare the results\n")
            n += 1


def cpu_seconds_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def run_recipe(seconds: float, log_path: Path, out_dir: Path) -> float:
    env = dict(os.environ, DISPLAY=":99")
    procs = [subprocess.Popen(["Xvfb", ":99", "-screen", "0", "1280x720x24", "-ac"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    deadline = time.monotonic() + 10
    while not Path("/tmp/.X11-unix/X99").exists():
        if time.monotonic() > deadline:
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    procs.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    procs.append(subprocess.Popen(
        ["xterm", "-fa", "Monospace", "-fs", "12", "-bg", "black", "-fg", "#00ff00",
         "-geometry", "160x45+0+0", "-e", f"tail -f {log_path}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    ffmpeg = subprocess.Popen(RECIPE_FFMPEG + ["-t", str(seconds), str(out_dir / "recipe.flv")], env=env)
    procs.append(ffmpeg)
    ffmpeg_cpu = 0.0
    try:
        # Read CPU just before ffmpeg exits: poll its /proc entry until it is gone.
        while ffmpeg.poll() is None:
            try:
                ffmpeg_cpu = cpu_seconds_of(ffmpeg.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.2)
        others = sum(cpu_seconds_of(p.pid) for p in procs if p is not ffmpeg and p.poll() is None)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return ffmpeg_cpu + others


def run_streamer(seconds: float, log_path: Path, out_dir: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "streamer", "scenes/terminal.py", "--log", str(log_path),
         "--output", str(out_dir / "streamer.flv"), "--duration", str(seconds), "--health-interval", "1000"],
        cwd=REPO, check=True, stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (default: 60)")
    parser.add_argument("--static", action="store_true", help="a static log instead of 5 lines/s")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    missing = [tool for tool in ("Xvfb", "xterm", "openbox", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        print(f"error: the recipe needs {', '.join(missing)}: apt-get install -y xvfb xterm openbox ffmpeg",
              file=sys.stderr)
        return 2
    minutes = args.seconds / 60
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        for name, runner in (("recipe", run_recipe), ("streamer", run_streamer)):
            log_path = tmp_dir / f"{name}.log"
            log_path.write_text("".join(f"[boot] line {i}\n" for i in range(60)))
            stop = threading.Event()
            writer = threading.Thread(target=write_log, args=(log_path, stop, 0.0001 if args.static else 5.0))
            writer.start()
            try:
                cpu = runner(args.seconds, log_path, tmp_dir)
            finally:
                stop.set()
                writer.join()
            results[f"{name}.cpu_s_per_min"] = round(cpu / minutes, 2)
    results["ratio"] = round(results["streamer.cpu_s_per_min"] / results["recipe.cpu_s_per_min"], 3)
    if args.json:
        print(json.dumps(results))
    else:
        case = "static" if args.static else "scrolling 5 lines/s"
        print(f"{case}, {args.seconds:.0f} s each:")
        print(f"  platform recipe (Xvfb+xterm+ffmpeg): {results['recipe.cpu_s_per_min']:6.2f} CPU-s per stream-minute")
        print(f"  streamer:                            {results['streamer.cpu_s_per_min']:6.2f} CPU-s per stream-minute")
        print(f"  ratio streamer/recipe:               {results['ratio']:.3f}  (target <= 0.70)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

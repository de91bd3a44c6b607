"""CPU per stream-minute: the platform recipe (Xvfb + xterm + ffmpeg x11grab) against streamer, one run.

Not part of CI (it needs Debian's xvfb, xterm, openbox, ffmpeg and x11-utils, which streamer itself never
uses):

    apt-get install -y xvfb xterm openbox ffmpeg x11-utils
    python benchmarks/recipe_compare.py --seconds 60 [--json]

Both sides show the same log scrolling at 5 lines/s (or a static one with --static), encode with the same
settings (libx264 veryfast/zerolatency 1500k, g 60, AAC 128k) and write FLV to a local file, so only the
way frames are produced differs. CPU is user+system time of every process involved, read from /proc (the
recipe) or from the child's rusage (streamer), divided by the stream minutes.

The platform document has an agent type `openbox &` and then the xterm command. Started in the same
instant instead, openbox (still starting) leaves the xterm unmapped for good, and ffmpeg would capture (and
cheaply encode) a black screen for the whole run. The benchmark therefore starts the xterm only once openbox
owns the screen (the root window names a window manager), and ffmpeg only once the xterm is viewable; and
afterwards it decodes a late frame of each side's recording and fails unless it shows green terminal text,
so neither side can win by showing nothing.
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
from collections.abc import Callable
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
XTERM_TITLE = "recipe-compare-xterm"
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
    try:
        wait_for_x(env, "Xvfb to listen", lambda _env: Path("/tmp/.X11-unix/X99").exists())
        procs.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_x(env, "openbox to manage the screen", window_manager_running)
        procs.append(subprocess.Popen(
            ["xterm", "-fa", "Monospace", "-fs", "12", "-bg", "black", "-fg", "#00ff00",
             "-geometry", "160x45+0+0", "-title", XTERM_TITLE, "-e", f"tail -f {log_path}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_x(env, "the xterm to be on screen", xterm_viewable)
    except BaseException:
        stop_all(procs)
        raise
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
        stop_all(procs)
    return ffmpeg_cpu + others


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.kill()
        p.wait()


def x_query(env: dict[str, str], *command: str) -> str:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=5).stdout


def window_manager_running(env: dict[str, str]) -> bool:
    # An EWMH window manager sets this property on the root window once it manages the screen.
    return "window id #" in x_query(env, "xprop", "-root", "_NET_SUPPORTING_WM_CHECK")


def xterm_viewable(env: dict[str, str]) -> bool:
    return "IsViewable" in x_query(env, "xwininfo", "-name", XTERM_TITLE)


def wait_for_x(env: dict[str, str], what: str, ready: Callable[[dict[str, str]], bool],
               timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready(env):
        if time.monotonic() > deadline:
            raise SystemExit(f"recipe: gave up waiting {timeout:.0f} s for {what}")
        time.sleep(0.1)


def shows_green_text(recording: Path) -> bool:
    """True if a frame near the end of ``recording`` has terminal-green pixels (a few hundred at least)."""
    with av.open(str(recording)) as container:
        stream = container.streams.video[0]
        last = None
        for frame in container.decode(stream):
            last = frame
    if last is None:
        return False
    rgb = last.to_ndarray(format="rgb24").astype(int)
    green = (rgb[..., 1] > 150) & (rgb[..., 0] < 100) & (rgb[..., 2] < 100)
    return int(green.sum()) > 500


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
    missing = [tool for tool in ("Xvfb", "xterm", "openbox", "ffmpeg", "xwininfo", "xprop")
               if shutil.which(tool) is None]
    if missing:
        print(f"error: the recipe needs {', '.join(missing)}: "
              "apt-get install -y xvfb xterm openbox ffmpeg x11-utils", file=sys.stderr)
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
            if not shows_green_text(tmp_dir / f"{name}.flv"):
                print(f"error: the {name} side's recording does not show the terminal text", file=sys.stderr)
                return 1
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

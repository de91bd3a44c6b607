"""``python -m streamer SCENE.py --output …`` end to end: real subprocess, real ingest, decode what arrived."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.ingest import RtmpIngest, wait_until
from tests.media.test_pipeline_support import probe

REPO = Path(__file__).resolve().parents[1]
FRAME = 1 / 30
GREEN = np.array([0, 255, 0])


def streamer_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")


def start_streamer(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streamer", *args], cwd=REPO, env=streamer_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_streamer(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamer", *args], cwd=REPO, env=streamer_env(),
                          capture_output=True, text=True, timeout=timeout)


def green_rows(rgb: np.ndarray) -> np.ndarray:
    """Indices of pixel rows holding bright green text (the terminal's #00ff00 on black)."""
    greenish = (rgb[..., 1] > 160) & (rgb[..., 0] < 90) & (rgb[..., 2] < 90)
    return np.nonzero(greenish.sum(axis=1) >= 3)[0]


def check_stream(p, *, seconds: float) -> None:
    """H.264 1280x720 ~30 fps with increasing pts; AAC 44.1 kHz stereo from the start, aligned with video."""
    assert (p.video_codec, p.width, p.height, p.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert (p.audio_codec, p.sample_rate, p.channels) == ("aac", 44100, 2)
    assert all(b > a for a, b in zip(p.video_pts, p.video_pts[1:])), "video timestamps must increase"
    assert all(b > a for a, b in zip(p.audio_pts, p.audio_pts[1:])), "audio timestamps must increase"
    assert p.video_keyframes[0]
    assert abs(p.audio_pts[0] - p.video_pts[0]) <= FRAME, "audio must start with video"
    span = p.video_pts[-1] - p.video_pts[0]
    assert span >= seconds - 1.5
    assert 28.5 <= (len(p.video_pts) - 1) / span <= 31


def write_log(path: Path, lines: list[str]) -> None:
    with open(path, "a") as log:
        log.writelines(line + "\n" for line in lines)


def test_rtmp_stream_shows_the_log_in_green(tmp_path):
    log = tmp_path / "stream.log"
    # Hostile log content first: binary junk and a 10 MB line must not crash or stall anything.
    with open(log, "wb") as f:
        f.write(bytes(range(256)) * 64 + b"\n")
        f.write(b"x" * (10 * 1024 * 1024) + b"\n")
    ingest = RtmpIngest(tmp_path / "arrived.flv")
    try:
        ingest.wait_listening()
        proc = start_streamer("scenes/terminal.py", "--log", str(log), "--output", ingest.url,
                              "--duration", "6", "--health-interval", "1")
        write_log(log, ["hello from the agent"] * 3)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        ingest.stop()
    finally:
        ingest.close()
    assert ingest.key not in out + err, "the stream key leaked into the output"
    assert "output connected" in err and "health:" in err
    p = probe(str(ingest.recording_path))
    check_stream(p, seconds=6)
    rows = green_rows(p.last_frame)
    # The newest line sits on the bottom text row: green pixels in the lowest 32 px of the frame.
    assert len(rows) and rows.max() >= 720 - 32, rows


def test_rtmps_through_a_verifying_tls_relay(tmp_path, tls_terminator, rtmp_ingest, test_ca_file):
    url = f"rtmps://127.0.0.1:{tls_terminator.port}/live/{rtmp_ingest.key}"
    result = run_streamer("scenes/terminal.py", "--log", str(tmp_path / "none.log"), "--output", url,
                          "--duration", "3", "--ca-file", test_ca_file)
    assert result.returncode == 0, result.stderr
    rtmp_ingest.stop()
    assert tls_terminator.bytes_forwarded > 10_000
    check_stream(probe(str(rtmp_ingest.recording_path)), seconds=3)
    assert rtmp_ingest.key not in result.stdout + result.stderr


def test_rtmps_without_a_trusted_certificate_is_refused(tmp_path, tls_terminator, rtmp_ingest):
    url = f"rtmps://127.0.0.1:{tls_terminator.port}/live/{rtmp_ingest.key}"
    result = run_streamer("scenes/terminal.py", "--log", str(tmp_path / "none.log"), "--output", url,
                          "--duration", "20")
    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr and "--ca-file" in result.stderr
    assert tls_terminator.bytes_forwarded == 0, "nothing may reach the ingest over an unverified connection"
    assert rtmp_ingest.key not in result.stderr


def test_file_output_of_ten_seconds(tmp_path):
    log = tmp_path / "later.log"  # does not exist yet: the scene waits for it
    out_file = tmp_path / "show.flv"
    proc = start_streamer("scenes/terminal.py", "--log", str(log), "--output", str(out_file), "--duration", "10")
    # The file appears while streaming; its line must reach the picture.
    assert wait_until(lambda: out_file.exists() and out_file.stat().st_size > 50_000, 20)
    write_log(log, ["the log appeared after the stream started"])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    p = probe(str(out_file))
    check_stream(p, seconds=10)
    assert abs(p.video_pts[-1] - p.video_pts[0] + FRAME - 10) <= FRAME + 1e-3
    assert abs((p.audio_samples - 1024) / 44100 - 10) <= FRAME  # the decoder's first frame is AAC priming
    assert len(green_rows(p.last_frame)) > 0


def test_ingest_killed_mid_stream_is_reported_within_five_seconds(tmp_path):
    ingest = RtmpIngest(tmp_path / "arrived.flv")
    try:
        ingest.wait_listening()
        proc = start_streamer("scenes/terminal.py", "--log", str(tmp_path / "x.log"), "--output", ingest.url,
                              "--duration", "60", "--health-interval", "0.5")
        lines: list[str] = []
        reader = _LineCollector(proc.stderr, lines)
        assert wait_until(lambda: any("output connected" in line for line in lines), 20), lines
        killed_at = time.monotonic()
        ingest.kill()
        assert wait_until(lambda: any("output failed" in line for line in lines), 5), lines
        reported_after = time.monotonic() - killed_at
        proc.wait(timeout=20)
        reader.join()
    finally:
        ingest.close()
        if proc.poll() is None:
            proc.kill()
    assert reported_after < 5
    assert proc.returncode == 1
    failure = next(line for line in lines if "output failed" in line)
    assert "ingest closed the connection" in failure or "publisher" in failure, failure
    assert ingest.key not in "".join(lines)


class _LineCollector:
    def __init__(self, stream, lines: list[str]) -> None:
        import threading

        self._thread = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join(10)


def test_sigterm_ends_the_stream_cleanly(tmp_path):
    out_file = tmp_path / "show.flv"
    proc = start_streamer("scenes/terminal.py", "--log", str(tmp_path / "x.log"), "--output", str(out_file))
    assert wait_until(lambda: out_file.exists() and out_file.stat().st_size > 100_000, 20)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    p = probe(str(out_file))
    check_stream(p, seconds=1)
    assert p.container_duration is not None and p.container_duration > 1  # the header was finalised


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def setup(stage, options):\n    x = (\n", r"broken\.py:2\b"),
        ("x = 1\n", r"broken\.py.*setup"),
        ("raise RuntimeError('boom at import')\n", r"broken\.py:1\b.*boom at import"),
    ],
    ids=["syntax-error", "no-setup", "import-error"],
)
def test_bad_scene_fails_before_going_on_air(tmp_path, source, expected):
    scene = tmp_path / "broken.py"
    scene.write_text(source)
    out_file = tmp_path / "never.flv"
    result = run_streamer(str(scene), "--output", str(out_file), "--duration", "2")
    assert result.returncode == 2
    assert re.search(expected, result.stderr, re.S), result.stderr
    assert "Traceback (most recent call last)" not in result.stderr  # one clear line, not a crash dump
    assert not out_file.exists(), "nothing may go on air with a broken scene"


def test_missing_scene_file(tmp_path):
    result = run_streamer(str(tmp_path / "nope.py"), "--output", str(tmp_path / "x.flv"))
    assert result.returncode == 2 and "nope.py" in result.stderr


def test_scene_update_error_keeps_the_stream_going(tmp_path):
    scene = tmp_path / "flaky.py"
    scene.write_text(
        "from streamer.scene import Background\n"
        "def setup(stage, options):\n    stage.root.add(Background('#0000ff'))\n"
        "def update(stage, t):\n    if t > 1:\n        raise ValueError('scene bug at t>1')\n"
    )
    out_file = tmp_path / "flaky.flv"
    result = run_streamer(str(scene), "--output", str(out_file), "--duration", "3")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("scene bug at t>1") >= 1
    assert "Traceback" in result.stderr and "flaky.py" in result.stderr
    p = probe(str(out_file))
    check_stream(p, seconds=3)
    blue = p.last_frame[360, 640]
    assert blue[2] > 200 and blue[0] < 40, blue  # the last good frame kept going out


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--preset", "bogus"], "refused these settings"),
        (["--bitrate", "abc"], "not a bitrate"),
        (["--video-codec", "nope"], "unknown encoder 'nope'"),
        (["--gop", "0"], "gop must be positive"),
        (["--output", "ftp://example/x"], "unsupported output scheme"),
        (["--output", "rtmps://127.0.0.1:9/live/k", "--ca-file", "/nonexistent.pem"], "--ca-file"),
    ],
    ids=["preset", "bitrate", "codec", "gop", "scheme", "ca-file"],
)
def test_bad_options_fail_before_going_on_air(tmp_path, options, expected):
    out_file = tmp_path / "never.flv"
    if "--output" not in options:
        options = [*options, "--output", str(out_file)]
    result = run_streamer("scenes/terminal.py", "--log", str(tmp_path / "x.log"), *options, "--duration", "2")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out_file.exists()

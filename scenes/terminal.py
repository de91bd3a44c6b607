"""The terminal scene: a log file followed like `tail -F`, green on black, filling 1280x720.

It replaces the platform recipe's `xterm -geometry 160x45 -e "tail -f /tmp/stream.log"`, but the
whole 160x45 grid fits the frame, so the newest line is always on screen (the bottom row).

    python -m streamer scenes/terminal.py --log /tmp/stream.log

Viewer comments appear in the terminal as cyan chat lines.
"""

import argparse

from streamer.scene import Background, LogFollower, Stage, TerminalView

DEFAULT_LOG = "/tmp/stream.log"
# pyte interprets roughly 400 bytes per millisecond here; 2 KB per frame (~60 KB/s, ~750 log
# lines/s) keeps a frame's terminal work near 5 ms.  Faster writers are skipped ahead.
BYTES_PER_FRAME = 2 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", default=DEFAULT_LOG, metavar="PATH",
                        help=f"log file to follow (default {DEFAULT_LOG}); it may not exist yet")


def setup(stage: Stage, options: argparse.Namespace) -> None:
    stage.root.add(Background("#000000"))
    term = stage.root.add(TerminalView(width=stage.width, height=stage.height, fg="#00ff00", bg="#000000"))
    # A line longer than ~12 rows is cut: a 10 MB line must not flood the screen.
    follower = LogFollower(getattr(options, "log", DEFAULT_LOG), max_line_bytes=12 * term.columns)
    stage.state.term = term
    stage.state.follower = follower.start()


def update(stage: Stage, t: float) -> None:
    stage.state.term.feed(stage.state.follower.read(BYTES_PER_FRAME))


def on_comment(stage: Stage, comment) -> None:
    author, text = _printable(comment.author), _printable(comment.text)
    stage.state.term.feed_line(f"\x1b[0;1;36m[chat] {author}:\x1b[0;36m {text}\x1b[0m")


def _printable(value) -> str:
    # One line of plain text: a viewer must not be able to send escape sequences to the terminal.
    return "".join(ch for ch in " ".join(str(value).split()) if ch.isprintable())


def teardown(stage: Stage) -> None:
    stage.state.follower.stop()

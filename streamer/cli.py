"""Command line entry point.

``python -m streamer SCENE.py [options]`` renders a scene and streams it (to retake.tv, or to
``--output``).  Every other first word is an account or discovery command talking to retake.tv.
The two faces live in separate modules so that neither imports the other's dependencies.
"""

from __future__ import annotations

import sys

# First words that name a platform command rather than a scene file.
PLATFORM_COMMANDS = frozenset(
    {
        "register", "verify", "status", "stop", "chat", "comments",
        "live", "search", "streamer", "tokens", "token", "trades", "chat-history", "sessions",
    }
)

USAGE = """\
usage: python -m streamer SCENE.py [--output URL|FILE] [--duration S] [options]   go live / rehearse
       python -m streamer COMMAND [options]                                     account & discovery

Streaming:
  SCENE.py             a scene module, e.g. scenes/terminal.py (see `python -m streamer SCENE.py --help`)

Account commands:     register, verify, status, stop, chat send, comments
Discovery commands:   live, search, streamer, tokens, token, trades, chat-history, sessions

Run `python -m streamer COMMAND --help` for the options of any command.
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    if args[0] in PLATFORM_COMMANDS:
        from streamer.platform_cli import main as platform_main

        return platform_main(args)
    from streamer.run_cli import main as run_main

    return run_main(args)

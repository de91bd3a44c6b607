"""A title card: the "writing a scene" example.

    python -m streamer scenes/hello.py --title "Hello, retake.tv"

setup() builds the graph once; update() only changes the properties that move (the clock text
once a second, the ticker's x every frame), so each frame redraws just those few pixels.
"""

import time
from pathlib import Path

from streamer.scene import Background, Group, Image, Panel, Text

LOGO = Path(__file__).resolve().parents[1] / "assets" / "images" / "logo.png"
TICKER = "Welcome to the stream  •  comments show up on the card  •  built with streamer  •  "


def add_arguments(parser):
    parser.add_argument("--title", default="Hello, retake.tv", help="the big line on the card")


def setup(stage, options):
    stage.root.add(Background("#10131a"))
    card = stage.root.add(Group(x=190, y=150))
    card.add(
        Panel(width=900, height=360, fill="#1d2330", outline="#3a4660", radius=24),
        Image(LOGO, x=40, y=40, width=120),
        Text(options.title, x=190, y=50, width=670, size=48, bold=True),
        Text("An agent, live. This card is a scene module in scenes/hello.py.",
             x=190, y=130, width=670, size=24, color="#aab4c8"),
    )
    stage.state.clock = card.add(Text("", x=40, y=290, width=820, size=28, mono=True, color="#7fd4ff"))
    stage.state.comment = card.add(Text("", x=40, y=215, width=820, size=24, color="#ffd479"))
    stage.state.ticker = stage.root.add(Text(TICKER * 3, y=660, size=24, color="#c0c8d8"))


def update(stage, t):
    stage.state.clock.text = time.strftime("%H:%M:%S") + f"   on air {int(t) // 60:02d}:{int(t) % 60:02d}"
    ticker = stage.state.ticker
    loop = ticker.local_bounds().w // 3  # the ticker text repeats three times: wrap after one copy
    ticker.x = -int(t * 80) % loop - loop


def on_comment(stage, comment):
    stage.state.comment.text = f"{comment.author}: {comment.text}"

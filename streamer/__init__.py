"""streamer: put an AI agent live on retake.tv with an in-process renderer and encoder."""

__version__ = "0.1.0"

"""The audio side of the stream: one fixed sample format, and the seam a later TTS mixer plugs into.

PyAV's encoder-side resampler locks to the format of the first frame it sees, so everything fed to the
AAC encoder has exactly one shape: float32, planar, ``(channels, n)`` at 44.1 kHz.  An ``AudioSource``
produces that; ``AudioTrack`` reads it in order and lets each output (there is a new one after every
``switch_output``) start at any sample position without re-reading the source.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

SAMPLE_FORMAT = "fltp"  # what FFmpeg's native AAC encoder consumes: no conversion on the way in
SAMPLE_DTYPE = np.float32
AAC_FRAME_SAMPLES = 1024


@runtime_checkable
class AudioSource(Protocol):
    """Anything that yields the stream's audio, sample-exact and in order.

    ``read(n)`` returns the next ``n`` samples as a float32 array of shape ``(channels, n)`` with values
    in [-1, 1].  It is called from the frame thread and must not block (mix pre-synthesised clips).
    """

    def read(self, n_samples: int) -> np.ndarray: ...


class SilenceSource:
    """Silence: the stream always carries an audio track, even before anything speaks."""

    def __init__(self, channels: int = 2) -> None:
        self.channels = channels
        self._zeros = np.zeros((channels, AAC_FRAME_SAMPLES), dtype=SAMPLE_DTYPE)
        self._zeros.flags.writeable = False

    def read(self, n_samples: int) -> np.ndarray:
        if n_samples == AAC_FRAME_SAMPLES:
            return self._zeros
        return np.zeros((self.channels, n_samples), dtype=SAMPLE_DTYPE)


class AudioTrack:
    """Reads an ``AudioSource`` once, in order, and serves any recent sample range from a short history.

    Outputs ask for ``samples(position, n)`` by absolute sample position; a new output may start a little
    behind the read head (its first sample lines up with its first video frame), so the last couple of
    AAC frames are kept.
    """

    def __init__(self, source: AudioSource, channels: int = 2, history: int = 4 * AAC_FRAME_SAMPLES) -> None:
        self.source = source
        self.channels = channels
        self._history = history
        # One preallocated store with room for the history plus a few reads: appending copies into it,
        # and only when it is full is the kept history moved back to the front.  (Concatenating arrays
        # on every read allocated and freed ~40 KB 43 times a second.)
        self._store = np.zeros((channels, 4 * history), dtype=SAMPLE_DTYPE)
        self._store_start = 0  # absolute sample index of _store[:, 0]
        self._filled = 0  # columns of _store in use
        self.silent = True  # whether the most recent read was all zeros (lets encoders reuse silence)
        # The plain SilenceSource (exactly that class: a subclass may override read) is silent by
        # construction, so its samples need no history, no copy and no scan for non-zero values: that
        # was ~100 µs of the frame thread per video frame on this kind of VM (cold caches after x264).
        self._silence_only = type(source) is SilenceSource
        self._silent_head = 0  # read head while _silence_only

    @property
    def read_head(self) -> int:
        if self._silence_only:
            return self._silent_head
        return self._store_start + self._filled

    @property
    def _buffer_start(self) -> int:
        """Oldest absolute sample still served: at most ``history`` behind the read head."""
        return max(self._store_start, self.read_head - self._history)

    def _read_source(self, n_samples: int) -> None:
        chunk = self.source.read(n_samples)
        chunk = np.asarray(chunk)
        if chunk.shape != (self.channels, n_samples):
            raise ValueError(
                f"AudioSource.read({n_samples}) returned shape {chunk.shape}; "
                f"expected ({self.channels}, {n_samples}) float32"
            )
        if self._filled + n_samples > self._store.shape[1]:
            keep = min(self._history, self._filled)
            if keep + n_samples > self._store.shape[1]:
                grown = np.zeros((self.channels, 2 * (keep + n_samples)), dtype=SAMPLE_DTYPE)
                grown[:, :keep] = self._store[:, self._filled - keep : self._filled]
                self._store = grown
            else:
                self._store[:, :keep] = self._store[:, self._filled - keep : self._filled]
            self._store_start += self._filled - keep
            self._filled = keep
        self._store[:, self._filled : self._filled + n_samples] = chunk  # casts to float32 if needed
        self._filled += n_samples

    def skip_silence(self, position: int, n_samples: int) -> bool:
        """For the plain ``SilenceSource``: count ``[position, position + n)`` as served, without making
        any samples, and return True (the encoder serves steady silence from a cached packet).  False
        for any other source: read its ``samples``."""
        if not self._silence_only:
            return False
        oldest = self._silent_head - self._history  # _buffer_start, without two property calls per frame
        if position < oldest and position < self._store_start:
            raise ValueError(
                f"audio position {position} is older than the kept history (starts at {self._buffer_start})"
            )
        if position + n_samples > self._silent_head:
            self._silent_head = position + n_samples
        self.silent = True
        return True

    def samples(self, position: int, n_samples: int) -> np.ndarray:
        """Samples ``[position, position + n)`` as a contiguous ``(channels, n)`` float32 array.

        Treat it as read-only: for the plain ``SilenceSource`` it is a shared array of zeros."""
        if position < self._buffer_start:
            raise ValueError(
                f"audio position {position} is older than the kept history (starts at {self._buffer_start})"
            )
        if self._silence_only:
            if position + n_samples > self._silent_head:
                self._silent_head = position + n_samples
            self.silent = True
            return self.source.read(n_samples)
        missing = position + n_samples - self.read_head
        if missing > 0:
            self._read_source(missing)
        offset = position - self._store_start
        out = self._store[:, offset : offset + n_samples].copy()  # the store is reused: hand out a copy
        self.silent = not out.any()
        return out

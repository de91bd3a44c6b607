"""``LogFollower``: follow a growing log file like ``tail -F``, on a background thread.

It waits for a file that does not exist yet, starts over when the file is truncated, reopens it
when it is rotated (a new inode behind the same name), and never lets the frame loop wait:
``read(max_bytes)`` only takes what is already buffered.

Memory and per-frame work are bounded whatever the writer does: a line longer than
``max_line_bytes`` is cut (its head is kept, then a marker says how much was dropped), and when
the buffer outgrows ``max_buffered`` the oldest part is dropped, keeping only the newest
``keep_bytes`` from a line start, and the reader is told "… skipped N lines".  Notes for the
viewer are short dim (ANSI) lines in the byte stream itself.

Waking up: each wake-up of a thread costs tens of microseconds of CPU on a small VM, so the follower
sleeps until inotify says the file (or its name in the directory) changed, at most one wake-up per
``poll_interval`` under a flood of small writes, and at least every ``watch_interval`` (a second, like
``tail -F``) as a safety net for changes inotify does not report (see ``filewatch.py``).  Without inotify
it polls: every ``poll_interval`` while the log is active; once it has been quiet for ``idle_after``
seconds the interval doubles with every further ``idle_after`` of quiet, up to ``max_poll_interval``
(well below ``tail -F``'s one second).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from .filewatch import FileChangeWaiter

log = logging.getLogger(__name__)

_DIM = b"\x1b[0;2;33m"
_RESET = b"\x1b[0m"
_CHUNK = 64 * 1024


def _note(text: str) -> bytes:
    return _DIM + text.encode() + _RESET + b"\n"


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class LogFollower:
    """Follows ``path``; ``start()`` the thread, ``read()`` from the frame loop, ``stop()`` when done.

    ``from_start=False`` (default) begins with the last ``keep_bytes`` of a file that already
    exists (like tail's last lines) instead of replaying a long history.
    """

    def __init__(
        self, path: str | os.PathLike, *, max_buffered: int = 64 * 1024, keep_bytes: int = 8 * 1024,
        max_line_bytes: int = 4096, poll_interval: float = 0.05, max_poll_interval: float = 0.25,
        idle_after: float = 1.0, from_start: bool = False, use_inotify: bool = True,
        watch_interval: float = 1.0,
    ) -> None:
        if not 0 < keep_bytes <= max_buffered:
            raise ValueError("need 0 < keep_bytes <= max_buffered")
        if not 0 < poll_interval <= max_poll_interval:
            raise ValueError("need 0 < poll_interval <= max_poll_interval")
        if watch_interval <= 0:
            raise ValueError("need watch_interval > 0")
        self.max_poll_interval, self.idle_after = max_poll_interval, idle_after
        # The safety-net wake-up while inotify watches: a quiet log then costs one wake-up a second,
        # not four (each is tens of microseconds of CPU taken from the same cores as the encoder).
        self.watch_interval = watch_interval
        self.path = Path(path)
        self._fspath = os.fspath(self.path)  # a str: os.stat of a Path costs two Python calls per wake-up
        self.max_buffered, self.keep_bytes = max_buffered, keep_bytes
        self.max_line_bytes, self.poll_interval = max_line_bytes, poll_interval
        self._from_start = from_start
        self._use_inotify = use_inotify
        self._waiter: FileChangeWaiter | None = None  # made by the thread, closed when it ends
        self._last_wake = 0.0
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._skipped_lines = 0  # pending "skipped" note, shown at the front of the next read
        self._skipped_bytes = 0
        self._last_byte_read = b"\n"
        self._stop = threading.Event()
        self._open_event = threading.Event()
        self._thread: threading.Thread | None = None
        # Line-cap state, carried across chunks.
        self._line_len = 0
        self._dropping = 0  # >0: inside an over-long line, counts bytes dropped so far
        # Counters for health reporting and tests.
        self.lines_skipped = 0
        self.lines_cut = 0
        self.reopened = 0
        self.truncated = 0
        self.bytes_read = 0
        self.polls = 0  # waits between reads (shows the idle back-off)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "LogFollower":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"follow {self.path.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        waiter = self._waiter
        if waiter is not None:
            waiter.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> "LogFollower":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- consumer side (frame thread) ----------------------------------------------------
    @property
    def is_following(self) -> bool:
        """True once the file is open (it exists); False while waiting for it to appear."""
        return self._open_event.is_set()

    @property
    def uses_inotify(self) -> bool:
        """True while changes to the file wake the follower at once (else it polls)."""
        waiter = self._waiter
        return waiter is not None and waiter.active

    @property
    def buffered(self) -> int:
        with self._lock:
            return len(self._buf)

    def read(self, max_bytes: int = 4096) -> bytes:
        """Up to ``max_bytes`` of what has arrived (plus a skip note when data was dropped); never blocks long."""
        if not self._buf and not self._skipped_lines and not self._skipped_bytes:
            return b""  # the common case, every frame of a quiet log: no lock (a racing push shows next frame)
        with self._lock:
            head = b""
            if self._skipped_lines or self._skipped_bytes:
                lead = b"" if self._last_byte_read == b"\n" else b"\n"
                head = lead + _note(
                    f"… skipped {self._skipped_lines} lines ({_human(self._skipped_bytes)}) to keep up"
                )
                self._skipped_lines = self._skipped_bytes = 0
            out = bytes(self._buf[:max_bytes])
            del self._buf[:max_bytes]
        data = head + out
        if data:
            self._last_byte_read = data[-1:]
        return data

    # -- producer side (follower thread) -------------------------------------------------
    def _push(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self._buf += data
            if len(self._buf) > self.max_buffered:
                # Keep the newest keep_bytes, starting at a line start so no half line shows.
                cut = len(self._buf) - self.keep_bytes
                nl = self._buf.find(b"\n", cut)
                cut = nl + 1 if 0 <= nl < len(self._buf) - 1 else cut
                lines = self._buf.count(b"\n", 0, cut)
                self._skipped_lines += lines
                self._skipped_bytes += cut
                self.lines_skipped += lines
                del self._buf[:cut]

    def _cap_lines(self, chunk: bytes) -> bytes:
        """Pass ``chunk`` through, cutting every line to ``max_line_bytes`` plus a marker."""
        limit = self.max_line_bytes
        if not self._dropping and self._line_len + len(chunk) <= limit:
            nl = chunk.rfind(b"\n")
            self._line_len = self._line_len + len(chunk) if nl < 0 else len(chunk) - nl - 1
            return chunk  # fast path: nothing in this chunk can be over-long
        out = bytearray()
        pos, n = 0, len(chunk)
        while pos < n:
            nl = chunk.find(b"\n", pos)
            end = n if nl < 0 else nl
            if self._dropping:
                self._dropping += end - pos
                if nl < 0:
                    break
                out += b"\n" + _note(f"… line cut: {_human(self._dropping - 1)} more not shown")
                self._dropping = 0
                self._line_len = 0
                pos = nl + 1
                continue
            room = limit - self._line_len
            if end - pos <= room:
                out += chunk[pos:end + 1] if nl >= 0 else chunk[pos:end]
                self._line_len = 0 if nl >= 0 else self._line_len + end - pos
                pos = end + 1 if nl >= 0 else end
            else:
                out += chunk[pos:pos + room]
                self.lines_cut += 1
                self._dropping = 1  # 1 + bytes dropped, so 0 can mean "not dropping"
                pos += room
        return bytes(out)

    def _run(self) -> None:
        self._waiter = FileChangeWaiter(self.path, use_inotify=self._use_inotify)
        if self._stop.is_set():
            self._waiter.wake()  # stop() came before the waiter existed
        try:
            self._follow()
        except Exception:  # never let a follower crash silently: the terminal would just freeze
            log.exception("log follower for %s failed", self.path)
            self._push(_note("[log follower stopped: see the streamer's log]"))
        finally:
            waiter, self._waiter = self._waiter, None
            waiter.close()

    def _open(self, first: bool) -> tuple | None:
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot open %s: %s", self.path, exc)
            return None
        if self._waiter is not None:
            self._waiter.watch_open_file()
        st = os.fstat(f.fileno())
        if first and not self._from_start and st.st_size > self.keep_bytes:
            f.seek(st.st_size - self.keep_bytes)
            f.readline()  # start at a line boundary
        return f, (st.st_dev, st.st_ino)

    def _idle_wait(self, quiet_since: float) -> None:
        """Wait before the next read: until the file changes (inotify), or a poll interval that is short
        while the log is active and longer the longer it stays quiet."""
        waiter = self._waiter
        if waiter is not None and waiter.ensure_watching():
            self.polls += 1
            if waiter.wait(self.watch_interval):
                # Woken by a change: under a flood of small writes read at most once per poll_interval
                # (the writes pile up in the file meanwhile and are read in one go).
                now = time.monotonic()
                early = self._last_wake + self.poll_interval - now
                if early > 0:
                    self._stop.wait(early)
                self._last_wake = time.monotonic()
            return
        interval = self.poll_interval
        quiet = time.monotonic() - quiet_since
        if quiet > self.idle_after:
            interval = min(self.max_poll_interval, interval * 2 ** ((quiet - self.idle_after) / self.idle_after))
        self.polls += 1
        self._stop.wait(interval)

    def _follow(self) -> None:
        f = None
        ident = None
        first = True
        waiting_noted = False
        quiet_since = time.monotonic()  # when data (or a change of file) last showed up
        while not self._stop.is_set():
            if f is None:
                opened = self._open(first)
                if opened is None:
                    if not waiting_noted:
                        self._push(_note(f"waiting for {self.path} to appear…"))
                        waiting_noted = True
                    self._idle_wait(quiet_since)
                    continue
                f, ident = opened
                self._open_event.set()
                if not first:
                    self.reopened += 1
                first = False
                self._line_len = self._dropping = 0
            chunk = f.read(_CHUNK)  # reads until _CHUNK bytes or the end of the file
            if chunk:
                quiet_since = time.monotonic()
                self.bytes_read += len(chunk)
                self._push(self._cap_lines(chunk))
                if len(chunk) == _CHUNK:
                    continue  # there may be more; a short read reached the end: check the file now
            # At end of file: has the name moved to a new file, or was this one truncated?
            try:
                st = os.stat(self._fspath)
            except FileNotFoundError:
                st = None  # removed or being rotated: keep the old file until a new one appears
            except OSError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) != ident:
                f.close()
                f = None
                self._open_event.clear()
                self._push(b"\n" + _note(f"{self.path} was replaced; following the new file"))
                continue
            if st is not None and st.st_size < f.tell():
                f.seek(0)
                self.truncated += 1
                self._line_len = self._dropping = 0
                self._push(b"\n" + _note(f"{self.path} was truncated; reading from the start"))
                continue
            self._idle_wait(quiet_since)
        if f is not None:
            f.close()

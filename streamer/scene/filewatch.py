"""``FileChangeWaiter``: sleep until a file may have changed (inotify), or until a timeout (fallback).

The log follower used to poll its file 20 times a second while the log was active; every wake-up of a
thread costs tens of microseconds of CPU on a small VM, and a log written a few times a second needs a
few wake-ups, not twenty.  With inotify the follower sleeps until the kernel says something happened to
the file: it was written or truncated (``IN_MODIFY``), created, renamed away or replaced (events on the
parent directory carrying the file's name), or the open file itself changed after it was rotated to
another name (a watch on the open inode).

inotify is a hint, never the only way in: where it is unavailable (not Linux, no instance or watch left,
a directory that does not exist yet) or silent (network file systems do not report remote writes), the
caller's timeout still wakes it, so the follower degrades to plain polling instead of stalling.
"""

from __future__ import annotations

import logging
import os
import select
import time
from pathlib import Path

log = logging.getLogger(__name__)

try:  # Linux only; anywhere else the waiter is a plain timed wait
    from inotify_simple import INotify
    from inotify_simple import flags as _in
except (ImportError, OSError):  # pragma: no cover - not reached on Linux
    INotify = None  # type: ignore[assignment,misc]

if INotify is not None:
    # On the directory: our name created, modified, moved in or out, deleted, or its metadata changed.
    _DIR_MASK = (_in.CREATE | _in.MODIFY | _in.MOVED_TO | _in.MOVED_FROM | _in.DELETE | _in.ATTRIB
                 | _in.CLOSE_WRITE)
    # While the open file's inode is watched, its writes need not be reported twice: every append
    # would otherwise wake the follower with two events to decode (one per watch).
    _DIR_MASK_FILE_WATCHED = _DIR_MASK & ~_in.MODIFY
    # On the open file's inode: written or truncated, even after it was renamed to another name.
    _FILE_MASK = _in.MODIFY | _in.ATTRIB
    _IGNORED, _OVERFLOW = int(_in.IGNORED), int(_in.Q_OVERFLOW)


class FileChangeWaiter:
    """Waits for changes to ``path`` (by name and, once ``watch_open_file`` was called, by inode).

    ``wait(timeout)`` returns when something may have changed, when ``wake()`` is called (from any
    thread), or after ``timeout`` seconds; whichever comes first.  ``active`` tells whether inotify is in
    use; without it ``wait`` is a plain timed sleep.  Call ``close()`` when done.
    """

    def __init__(self, path: str | os.PathLike, *, use_inotify: bool = True) -> None:
        self.path = Path(path)
        self._name = self.path.name
        self._inotify = None
        self._dir_wd: int | None = None
        self._file_wd: int | None = None
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._poller = select.poll()
        self._poller.register(self._wake_fd, select.POLLIN)
        self.events_seen = 0  # relevant events, for tests and health
        if use_inotify and INotify is not None:
            try:
                self._inotify = INotify(nonblocking=True)
            except OSError as exc:  # e.g. fs.inotify.max_user_instances reached
                log.info("inotify unavailable for %s (%s); polling instead", self.path, exc)
            else:
                self._poller.register(self._inotify.fileno(), select.POLLIN)
                self._watch_dir()

    @property
    def active(self) -> bool:
        """True while inotify watches the file's directory (changes wake ``wait`` at once)."""
        return self._dir_wd is not None

    def ensure_watching(self) -> bool:
        """Try again to watch the directory (it may exist by now); True if inotify is in use."""
        self._watch_dir()
        return self.active

    def _watch_dir(self, *, update: bool = False) -> None:
        """Watch the directory (or, with ``update``, set the watch's mask again: adding a watch on a watched
        path replaces its mask)."""
        if self._inotify is None or (self._dir_wd is not None and not update):
            return
        try:
            mask = _DIR_MASK if self._file_wd is None else _DIR_MASK_FILE_WATCHED
            self._dir_wd = self._inotify.add_watch(self.path.parent, mask)
        except OSError:
            self._dir_wd = None  # missing directory or no watch left: timed waits; retried each wait

    def watch_open_file(self) -> None:
        """Also watch the inode now behind ``path`` (call right after opening it), so writes to it are seen
        after a rotation renamed it.  A race with a rename only costs one timeout's latency."""
        if self._inotify is None:
            return
        if self._file_wd is not None:
            try:
                self._inotify.rm_watch(self._file_wd)  # the old file's writes no longer matter
            except OSError:
                pass  # already gone with its inode
            self._file_wd = None
        try:
            self._file_wd = self._inotify.add_watch(self.path, _FILE_MASK)
        except OSError:
            self._file_wd = None
        if self._dir_wd is not None:
            self._watch_dir(update=True)  # the directory's MODIFY is needed only without the file's watch

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if a change to the file (or a ``wake()``) ended it early."""
        if self._dir_wd is None:
            self._watch_dir()
        if self._inotify is None or self._dir_wd is None:
            woken = bool(self._poller.poll(max(0, int(timeout * 1000))))
            self._drain_wake()
            return woken
        remaining = timeout
        deadline = None
        while True:
            ready = self._poller.poll(max(0, int(remaining * 1000)))
            if not ready:
                return False
            woken = relevant = False
            for fd, _ in ready:  # drain only what fired: each syscall counts at a few wake-ups a second
                if fd == self._wake_fd:
                    woken = self._drain_wake()
                else:
                    relevant = self._drain_events()
            if woken or relevant:
                return True
            # Only other files in the directory changed: sleep on for the rest of the timeout.
            now = time.monotonic()
            deadline = deadline or now + remaining
            remaining = deadline - now
            if remaining <= 0:
                return False

    def _drain_wake(self) -> bool:
        try:
            os.eventfd_read(self._wake_fd)
            return True
        except BlockingIOError:
            return False

    def _drain_events(self) -> bool:
        relevant = False
        for event in self._inotify.read(timeout=0):
            if event.mask & _OVERFLOW:
                relevant = True  # events were lost: assume ours was among them
            elif event.wd == self._file_wd:
                relevant = True
                if event.mask & _IGNORED:
                    self._file_wd = None  # the inode is gone
                    if self._dir_wd is not None:
                        self._watch_dir(update=True)
            elif event.wd == self._dir_wd:
                if event.mask & _IGNORED:
                    self._dir_wd = None  # the directory went away: re-added on the next wait if it returns
                    relevant = True
                elif event.name == self._name:
                    relevant = True
        if relevant:
            self.events_seen += 1
        return relevant

    def wake(self) -> None:
        """Make a current or the next ``wait`` return at once (any thread)."""
        try:
            os.eventfd_write(self._wake_fd, 1)
        except OSError:
            pass  # closed: nobody is waiting any more

    def close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
            self._dir_wd = self._file_wd = None
        if self._wake_fd >= 0:
            os.close(self._wake_fd)
            self._wake_fd = -1

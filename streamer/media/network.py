"""NetworkSink: a file-like FLV sink that publishes to ``rtmp://`` or ``rtmps://`` without ever freezing us.

    muxer --write()--> NetworkSink --stdin pipe--> publisher child (PyAV remux, plain RTMP)
                                                     --> Relay (this process, asyncio thread) --TCP/TLS--> ingest

The child absorbs PyAV's GIL-holding connect and its uninterruptible writes; the relay verifies TLS, counts
bytes, detects a dead or stalled ingest and cuts it. When anything breaks the sink reports one ``error``
event, kills the child and makes ``write()`` raise ``OutputBroken`` instead of blocking.
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import streamer
from streamer.media.events import OutputEvent
from streamer.media.publisher import URL_ENV
from streamer.media.relay import Relay, Upstream
from streamer.redact import redact_secret, redact_url

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443}
# About 1.3 s of a 1500 kb/s stream: absorbs the child's connect without letting latency pile up.
_PIPE_BYTES = 256 * 1024
_CLOSE_TIMEOUT = 3.0
# Backstop for anything the relay cannot see (an ingest that answers the handshake but never the
# publish, a child that hangs), counted from the first write().
_PUBLISH_DEADLINE = 15.0


class OutputBroken(OSError):
    """The network output is dead, stalled or was cut; the message says why (never the stream key)."""


@dataclass(frozen=True)
class IngestUrl:
    """A parsed ``rtmp(s)://host[:port]/app/key``; ``str()``/``repr()`` never show the key."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # "app/key" (possibly more segments), without the leading slash
    key: str

    @classmethod
    def parse(cls, url: str) -> IngestUrl:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        shown = _shown_in_errors(url)
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(
                f"unsupported output URL {shown!r}: expected rtmp://host[:port]/app/key or "
                "rtmps://host[:port]/app/key"
            )
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError(f"output URL {shown!r} has an invalid port") from None
        segments = [s for s in parts.path.split("/") if s]
        if not parts.hostname or len(segments) < 2:
            raise ValueError(
                f"output URL {shown!r} needs a host, an application and a stream key: "
                f"{scheme}://host[:port]/app/key"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"output URL {shown!r} must not carry a query, fragment or user info")
        return cls(url, scheme, parts.hostname, port, "/".join(segments), segments[-1])

    @property
    def public_base(self) -> str:
        """``scheme://host[:port]`` as the user wrote it (the port only if given): where tcUrl points."""
        return f"{self.scheme}://{urlsplit(self.url).netloc}"

    def __repr__(self) -> str:
        return f"IngestUrl({redact_url(self.url)!r})"

    __str__ = __repr__

    def scrub(self, text: str) -> str:
        """Remove the URL and the key from text that might contain them."""
        text = text.replace(self.url, redact_url(self.url))
        if len(self.key) >= 3:
            text = text.replace(self.key, redact_secret(self.key))
        return text


def _shown_in_errors(url: str) -> str:
    """A malformed URL in an error message: ``redact_url`` hides the last of several path segments, but a
    lone segment may be the key itself, so then the path goes entirely."""
    parts = urlsplit(url)
    if len([s for s in parts.path.split("/") if s]) >= 2:
        return redact_url(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


class NetworkSink:
    """A binary, non-seekable file object for ``av.open(sink, "w", format="flv")`` that publishes live.

    ``on_event`` is called from the sink's threads: ``connected`` once the ingest accepted the publish,
    ``error`` exactly once with a reason when the connection fails or breaks, ``closed`` after a clean
    ``close()``.
    """

    def __init__(
        self,
        url: str,
        *,
        on_event: Callable[[OutputEvent], None],
        ca_file: str | None = None,
        insecure_tls: bool = False,
        stall_timeout: float = 3.0,
        generation: int = 0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._url = IngestUrl.parse(url)
        if ca_file is not None and not Path(ca_file).is_file():
            raise FileNotFoundError(f"--ca-file {ca_file!r} does not exist or is not a file")
        self._on_event = on_event
        self._generation = generation
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._error: str | None = None
        self._broken = threading.Event()
        self._connected = threading.Event()
        self._closing = False
        self.closed = False
        self._started_at = time.monotonic()
        self._relay = Relay(
            Upstream(self._url.host, self._url.port, tls=self._url.scheme == "rtmps"),
            on_failure=self._fail,
            ca_file=ca_file,
            insecure_tls=insecure_tls,
            stall_timeout=stall_timeout,
            connect_timeout=connect_timeout,
            public_base=self._url.public_base,
        )
        self._child = self._start_child()
        self._relay.start()  # after the child exists: an instant failure kills it
        self._stdin_fd = self._child.stdin.fileno()  # type: ignore[union-attr]
        # Non-blocking, so the frame thread can offer bytes without ever waiting (write_some); write()
        # waits for room with select instead.
        os.set_blocking(self._stdin_fd, False)
        self._threads = [
            threading.Thread(target=self._read_status, name="publisher-status", daemon=True),
            threading.Thread(target=self._drain_stderr, name="publisher-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        # Armed by the first write(): before that nobody asked us to publish anything.
        self._deadline = threading.Timer(_PUBLISH_DEADLINE, self._check_published)
        self._deadline.daemon = True
        self._bytes_written = 0
        log.info("publishing to %s via relay port %d", redact_url(url), self._relay.port)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "broken" if self._error else "open"
        return f"<NetworkSink {redact_url(self._url.url)} {state} bytes_out={self.bytes_out}>"

    # -- the file-object surface PyAV uses ------------------------------------------------------------

    @property
    def bytes_out(self) -> int:
        """Bytes the upstream socket accepted."""
        return self._relay.bytes_out

    @property
    def pings_answered(self) -> int:
        """RTMP pings the ingest answered; 0 if it ignores them (stall detection then relies on TCP)."""
        return self._relay.pings_answered

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        """Nothing to do: every write goes straight into the pipe."""

    def write(self, data: bytes) -> int:
        """Hand ``data`` to the publisher; blocks while the transport is slow, raises ``OutputBroken``
        once the connection is dead, stalled or cut."""
        self._raise_if_broken()
        view = memoryview(data).cast("B")
        with self._write_lock:
            self._raise_if_broken()
            self._arm_deadline()
            while view:
                written = self._write_pipe(view)
                if written is None:
                    self._wait_writable()
                    continue
                view = view[written:]
        return len(data)

    def write_some(self, data: bytes) -> int:
        """Write what the pipe takes right now (possibly nothing) and return how much; never blocks.
        This is how the frame thread writes directly, with no thread to wake in the steady state."""
        self._raise_if_broken()
        if not self._write_lock.acquire(blocking=False):
            return 0  # a blocking write() is in progress: the caller queues instead
        try:
            self._raise_if_broken()
            self._arm_deadline()
            written = self._write_pipe(data)
            return 0 if written is None else written
        finally:
            self._write_lock.release()

    def _write_pipe(self, data: bytes | memoryview) -> int | None:
        """One non-blocking write into the child's stdin: bytes written, or None if the pipe is full."""
        try:
            written = os.write(self._stdin_fd, data)
        except BlockingIOError:
            return None
        except OSError as exc:
            # The child died or was killed; whoever did it reports why in a moment.
            self._broken.wait(1.0)
            raise OutputBroken(self._error or f"publisher process is gone ({exc.strerror})") from None
        self._bytes_written += written
        return written

    def _wait_writable(self) -> None:
        """Until the pipe has room (or the sink broke: a killed child makes the pipe writable, and the
        next write then fails with the reason)."""
        while True:
            self._raise_if_broken()
            try:
                _, writable, _ = select.select([], [self._stdin_fd], [], 0.25)
            except (OSError, ValueError):  # the pipe was closed under us
                self._raise_if_broken()
                raise OutputBroken("publisher pipe closed") from None
            if writable:
                return

    def _arm_deadline(self) -> None:
        if not self._deadline.is_alive() and not self._deadline.finished.is_set():
            self._deadline.start()

    def wait_connected(self, timeout: float) -> bool:
        """True once the ingest accepted the publish; False on timeout or failure."""
        deadline = time.monotonic() + timeout
        while not self._connected.is_set() and not self._broken.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._connected.wait(min(remaining, 0.05))
        return self._connected.is_set() and not self._broken.is_set()

    def close(self) -> None:
        """End the stream: let the child flush and close its container, then kill it after a short
        deadline. Idempotent; never raises."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        try:
            self._deadline.cancel()
            if self._write_lock.acquire(timeout=_CLOSE_TIMEOUT):
                self._close_stdin()
                self._write_lock.release()
            else:  # a writer is stuck on a full pipe: killing the child unblocks it with EPIPE
                self._child.kill()
                with self._write_lock:
                    self._close_stdin()
            try:
                self._child.wait(_CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("publisher did not finish within %.1f s; killing it", _CLOSE_TIMEOUT)
                self._child.kill()
                self._child.wait()
            self._relay.close()
            for thread in self._threads:
                thread.join(1.0)
        except Exception:  # close() must never raise: log the bug and finish tearing down
            log.exception("error while closing %r", self)
            self._child.kill()
            self._relay.close()
        finally:
            self.closed = True
        if self._error is None:
            self._emit(OutputEvent("closed", "output closed", self._generation))

    # -- internals ----------------------------------------------------------------------------------

    def _start_child(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        package_root = str(Path(streamer.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        relay_url = f"{self._relay.local_base}/{self._url.path}"
        env[URL_ENV] = relay_url
        child = subprocess.Popen(
            [sys.executable, "-m", "streamer.media.publisher"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        try:
            fcntl.fcntl(child.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]
        except OSError:  # an unprivileged limit below our size: the default 64 KiB pipe still works
            pass
        return child

    def _read_status(self) -> None:
        """Status lines from the child; its exit without ``closed`` is a failure unless we are closing."""
        assert self._child.stdout is not None
        last_error = ""
        for raw in self._child.stdout:
            line = self._url.scrub(raw.decode("utf-8", "replace").strip())
            if line == "connected":
                self._on_connected()
            elif line.startswith("error "):
                last_error = line[len("error ") :]
            elif line == "closed":
                pass
        code = self._child.wait()
        if self._closing:
            if code != 0 and self._error is None and self._bytes_written:
                log.warning("publisher ended with code %d while closing: %s", code, last_error or "no reason")
            return
        self._fail(last_error or f"publisher process exited unexpectedly (code {code})")

    def _drain_stderr(self) -> None:
        """FFmpeg may talk on stderr; log it (scrubbed) instead of letting the pipe fill and block the child."""
        assert self._child.stderr is not None
        for raw in self._child.stderr:
            text = self._url.scrub(raw.decode("utf-8", "replace").rstrip())
            if text:
                log.debug("publisher: %s", text)

    def _on_connected(self) -> None:
        if not self._relay.upstream_ready.is_set() or self._broken.is_set():
            return
        self._connected.set()
        log.info(
            "connected to %s in %.2f s", redact_url(self._url.url), time.monotonic() - self._started_at
        )
        self._emit(OutputEvent("connected", f"publishing to {redact_url(self._url.url)}", self._generation))

    def _check_published(self) -> None:
        if not self._connected.is_set() and not self._closing and self._child.poll() is None:
            self._fail(f"ingest did not accept the publish within {_PUBLISH_DEADLINE:.0f} s")

    def _fail(self, reason: str) -> None:
        """Report the first failure once, then tear the transport down so writers stop blocking."""
        reason = self._url.scrub(reason)
        with self._lock:
            if self._error is not None or self._closing:
                return
            self._error = reason
        log.warning("output %s failed: %s", redact_url(self._url.url), reason)
        self._broken.set()
        try:
            self._emit(OutputEvent("error", reason, self._generation))
        finally:
            self._child.kill()
            self._relay.cut(reason)

    def _emit(self, event: OutputEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # a faulty listener must not take the transport down with it
            log.exception("output event handler failed on %s", event.kind)

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise OutputBroken(self._error)
        if self._closing:
            raise OutputBroken("output is closed")

    def _close_stdin(self) -> None:
        try:
            self._child.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass

"""A loopback relay between the publisher child process and the real ingest.

PyAV's RTMP client connects with the GIL held, cannot be interrupted, blocks forever on a peer that stops
reading and never verifies an ``rtmps://`` certificate. So the child speaks plain RTMP to this relay on
127.0.0.1, and the relay -- an asyncio loop on its own thread in the *main* process, whose GIL the child
cannot hold -- owns the real connection: plain TCP for ``rtmp://``, TLS with certificate and hostname
verification for ``rtmps://``. It forwards bytes, counts them, notices a dead or stalled ingest and can cut
the connection. Its RTMP knowledge: given ``public_base``, it rewrites the URL in the publisher's
``connect`` command so the ingest sees its own address, not the relay's (``rtmp_connect``); and it pings
the ingest inside the stream to notice an ingest that stopped reading even when the stream is too slow
for TCP to show it (``rtmp_probe``).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import socket
import ssl
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from streamer.media.rtmp_connect import ConnectRewriter
from streamer.media.rtmp_probe import LivenessProbe

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
# A small kernel send buffer keeps little stream in flight on our side, so a slow ingest turns into
# backpressure on write() within about a second (the kernel doubles the value given here).
_UPSTREAM_SNDBUF = 64 * 1024
_WRITE_HIGH_WATER = 64 * 1024
_POLL = 0.25


@dataclass(frozen=True)
class Upstream:
    """Where the relay connects: the real ingest."""

    host: str
    port: int
    tls: bool


class Relay:
    """Accepts one loopback connection and forwards it both ways to ``upstream``.

    ``on_failure(reason)`` is called at most once, from the relay thread, *before* the loopback side is
    closed -- so the relay's precise reason always beats the child's vaguer one ("I/O error").

    ``public_base`` (``rtmps://ingest.example[:port]``, no path) turns on the ``connect`` rewrite: the
    publisher's tcUrl ``rtmp://127.0.0.1:<port>/<app>`` reaches the ingest as ``<public_base>/<app>``.
    """

    def __init__(
        self,
        upstream: Upstream,
        *,
        on_failure: Callable[[str], None],
        ca_file: str | None = None,
        insecure_tls: bool = False,
        stall_timeout: float = 3.0,
        connect_timeout: float = 5.0,
        public_base: str | None = None,
    ) -> None:
        self.upstream = upstream
        self._on_failure = on_failure
        self._stall_timeout = stall_timeout
        self._connect_timeout = connect_timeout
        self._ssl = _client_context(ca_file, insecure_tls, upstream.host) if upstream.tls else None
        self._sent = 0  # bytes handed to the upstream transport
        self._upstream_writer: asyncio.StreamWriter | None = None
        self.bytes_in = 0  # bytes the ingest sent back (RTMP handshake, acks, status)
        self.upstream_ready = threading.Event()
        self._failed = False
        self._loop = asyncio.new_event_loop()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=1)
        self.port: int = self._listener.getsockname()[1]
        self.local_base = f"rtmp://127.0.0.1:{self.port}"  # what the publisher connects to
        self._rewriter = ConnectRewriter(self.local_base, public_base) if public_base is not None else None
        self._probe = LivenessProbe()
        self._main_task: asyncio.Task[None] | None = None
        self._first_out: asyncio.Event | None = None  # created on the relay loop
        self._thread = threading.Thread(target=self._run, name=f"relay-{self.port}", daemon=True)

    @property
    def bytes_out(self) -> int:
        """Bytes the upstream socket accepted (handed over minus what still waits in our buffer), including
        the relay's own RTMP pings (18 bytes every half second)."""
        writer = self._upstream_writer
        pending = writer.transport.get_write_buffer_size() if writer is not None else 0
        return max(0, self._sent - pending)

    @property
    def pings_answered(self) -> int:
        """Liveness pings the ingest answered (see ``rtmp_probe``)."""
        return self._probe.answered

    def start(self) -> None:
        self._thread.start()

    def cut(self, reason: str) -> None:
        """Fail with ``reason`` and drop both connections (thread-safe)."""
        if self._loop.is_closed():
            return
        try:
            self._loop.call_soon_threadsafe(self._fail, reason)
        except RuntimeError:  # loop already stopped
            pass

    def close(self, timeout: float = 2.0) -> None:
        """Stop forwarding and release everything; idempotent, never raises."""
        if not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._cancel_main)
            except RuntimeError:
                pass
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._listener.close()

    # -- relay thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._main_task = self._loop.create_task(self._serve())
            self._loop.run_until_complete(self._main_task)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug here must not pass silently, nor kill the process
            log.exception("relay to %s:%s crashed", self.upstream.host, self.upstream.port)
            self._fail("internal error in the network relay (see log)")
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _cancel_main(self) -> None:
        if self._main_task is not None:
            self._main_task.cancel()

    def _fail(self, reason: str) -> None:
        if self._failed:
            return
        self._failed = True
        try:
            self._on_failure(reason)
        finally:
            self._cancel_main()

    async def _serve(self) -> None:
        self._first_out = asyncio.Event()
        writers: list[asyncio.StreamWriter] = []
        try:
            up_reader, up_writer = await self._connect_upstream()
            writers.append(up_writer)
            self._upstream_writer = up_writer
            self.upstream_ready.set()
            # One publisher, one connection: accept it on the already-bound listener.
            self._listener.setblocking(False)
            child, _ = await self._loop.sock_accept(self._listener)
            self._listener.close()
            down_reader, down_writer = await asyncio.open_connection(sock=child)
            writers.append(down_writer)
            await self._forward(down_reader, down_writer, up_reader, up_writer)
        finally:
            for writer in writers:
                writer.transport.abort()

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self.upstream.host, self.upstream.port
        where = f"{host}:{port}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host,
                    port,
                    ssl=self._ssl,
                    server_hostname=host if self._ssl else None,
                    ssl_handshake_timeout=self._connect_timeout if self._ssl else None,
                ),
                self._connect_timeout,
            )
        except (OSError, TimeoutError) as exc:  # ssl.SSLError and socket.gaierror are OSErrors too
            self._fail(self._connect_failure(exc, host, where))
            raise asyncio.CancelledError from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _UPSTREAM_SNDBUF)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        log.info("relay connected to %s (%s)", where, "TLS verified" if self._ssl else "plain TCP")
        return reader, writer

    def _connect_failure(self, exc: BaseException, host: str, where: str) -> str:
        """The one-line reason a connection to the ingest could not be made."""
        if isinstance(exc, ssl.SSLCertVerificationError):
            why = exc.verify_message or exc.reason or "unknown reason"
            return (f"TLS certificate verify failed for host {host} ({why}): use --ca-file or fix the "
                    "ingest's certificate")
        if isinstance(exc, ssl.SSLError):
            return f"TLS handshake with {where} failed: {exc.reason or exc}"
        if isinstance(exc, TimeoutError):
            return f"cannot connect to {where}: no answer within {self._connect_timeout:.1f} s"
        if isinstance(exc, socket.gaierror):
            return f"cannot resolve ingest host {host}: {exc.strerror}"
        if isinstance(exc, ConnectionRefusedError):
            return f"cannot connect to {where}: connection refused"
        return f"cannot connect to {where}: {getattr(exc, 'strerror', None) or exc}"

    async def _forward(
        self,
        down_reader: asyncio.StreamReader,
        down_writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        tasks = {
            asyncio.create_task(self._pump_out(down_reader, up_writer)),
            asyncio.create_task(self._pump_in(up_reader, down_writer)),
            asyncio.create_task(self._watch_stall(up_writer)),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # surface bugs
        finally:
            for task in tasks:
                task.cancel()

    async def _pump_out(self, child: asyncio.StreamReader, ingest: asyncio.StreamWriter) -> None:
        """Publisher -> ingest. Blocks on the ingest's pace; ``_watch_stall`` decides when that is a stall."""
        while True:
            try:
                data = await child.read(_CHUNK)
            except (ConnectionError, OSError):  # FFmpeg may reset rather than close: same end for us
                data = b""
            if not data:
                # The publisher finished: close gracefully (FIN after the last byte). An abort would
                # send RST, and the ingest's kernel drops data its application has not read yet.
                held = self._rewriter.finish() if self._rewriter is not None else b""
                held = self._probe.outgoing(held, time.monotonic()) + self._probe.finish()
                if held:
                    ingest.write(held)
                    self._sent += len(held)
                try:
                    ingest.close()
                    await asyncio.wait_for(ingest.wait_closed(), self._stall_timeout)
                except (TimeoutError, OSError):
                    pass
                return
            assert self._first_out is not None
            self._first_out.set()
            if self._rewriter is not None and not self._rewriter.done:
                data = self._rewriter.feed(data)  # holds back a partial connect command
                if not data:
                    continue
            data = self._probe.outgoing(data, time.monotonic())
            ingest.write(data)
            self._sent += len(data)
            try:
                await ingest.drain()
            except (ConnectionError, OSError):
                self._fail("ingest closed the connection")
                return

    async def _watch_stall(self, ingest: asyncio.StreamWriter) -> None:
        """Fail when data waits to go out and the ingest's *application* has read nothing for
        ``stall_timeout``.

        Counting what our kernel accepted would see a frozen ingest only after both kernels' buffers
        filled (~20-30 s on Linux defaults, ~2.5 s even with a small SO_SNDBUF). TCP instead tells us the
        right edge of the peer's receive window (bytes acked + advertised window): it moves only when the
        ingest reads. Where TCP_INFO is unavailable we fall back to the kernel-accepted count.

        The window edge keeps moving while the frozen ingest's kernel still has buffer space, which at a
        few KB/s lasts well over ``stall_timeout``; so where the ingest answers RTMP pings, an unanswered
        ping catches the freeze too (``LivenessProbe``).
        """
        sock = ingest.get_extra_info("socket")
        last_mark, last_progress = None, time.monotonic()
        while True:
            await asyncio.sleep(_POLL)
            mark, pending = _peer_read_mark(sock)
            if mark is None:
                mark, pending = self.bytes_out, ingest.transport.get_write_buffer_size()
            pending += ingest.transport.get_write_buffer_size()
            now = time.monotonic()
            if self._probe.stalled(now, self._stall_timeout):
                self._fail(f"stalled: ingest accepted no data for {self._stall_timeout:.1f} s")
                return
            if self._probe.due(now):
                self._probe.request()
            if mark != last_mark or pending == 0:
                last_mark, last_progress = mark, now
            elif now - last_progress >= self._stall_timeout:
                self._fail(f"stalled: ingest accepted no data for {self._stall_timeout:.1f} s")
                return

    async def _pump_in(self, ingest: asyncio.StreamReader, child: asyncio.StreamWriter) -> None:
        """Ingest -> publisher. The first answer (the RTMP handshake) must come within ``stall_timeout``."""
        first = True
        while True:
            try:
                if first:
                    # The handshake clock starts with the publisher's first bytes.
                    assert self._first_out is not None
                    await self._first_out.wait()
                    data = await asyncio.wait_for(ingest.read(_CHUNK), self._stall_timeout)
                else:
                    data = await ingest.read(_CHUNK)
            except TimeoutError:
                self._fail(
                    "ingest accepted the connection but did not answer the RTMP handshake within "
                    f"{self._stall_timeout:.1f} s"
                )
                return
            except (ConnectionError, OSError):
                self._fail("ingest closed the connection")
                return
            if not data:
                self._fail("ingest closed the connection")
                return
            first = False
            self.bytes_in += len(data)
            self._probe.incoming(data, time.monotonic())
            child.write(data)
            await child.drain()


# struct tcp_info (linux/tcp.h): u64 tcpi_bytes_acked at offset 120, u32 tcpi_snd_wnd (the peer's
# advertised window in bytes, Linux >= 5.4) at offset 228.
_TCP_INFO_LEN = 232


def _peer_read_mark(sock: object) -> tuple[int | None, int]:
    """(right edge of the peer's receive window, bytes in our kernel send queue), or (None, 0) if unknown."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)  # type: ignore[attr-defined]
        queued = struct.unpack(
            "i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")  # type: ignore[attr-defined]
        )[0]
    except (AttributeError, OSError):
        return None, 0
    if len(info) < _TCP_INFO_LEN:
        return None, 0
    (acked,) = struct.unpack_from("Q", info, 120)
    (window,) = struct.unpack_from("I", info, 228)
    return acked + window, queued  # unsent + unacked bytes


def _client_context(ca_file: str | None, insecure_tls: bool, host: str) -> ssl.SSLContext:
    """Verify against the system trust store (or ``ca_file``); ``insecure_tls`` is an explicit opt-out."""
    context = ssl.create_default_context(cafile=ca_file)
    if insecure_tls:
        log.warning(
            "TLS certificate verification is DISABLED for %s (--insecure-tls): the stream key can be "
            "read by anyone in the middle",
            host,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

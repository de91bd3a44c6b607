"""Real ingest servers on loopback for tests: an RTMP ingest (PyAV listening) and a TLS terminator.

``RtmpIngest`` runs ``python tests/ingest.py URL RECORDING`` as a subprocess: PyAV listens for one RTMP
publisher and remuxes everything it receives into an FLV file, flushed per packet, so even a killed
publisher leaves decodable data. Being a process, it can be killed (SIGKILL: "ingest died") or frozen
(SIGSTOP: "ingest stopped reading").

The child also reports, on stdout, when a publisher connected and when it left (wall-clock times, so the
go-live tests can tell whether the platform should say ``is_live`` and measure the gap a viewer sees);
``RtmpIngest.connected`` / ``.left`` are set from those lines. ``drop_publisher()`` (SIGUSR1) makes the ingest
hang up on its publisher the way a platform ingest that drops a stream does.

``RecordingProxy`` sits in front of an ingest and keeps the bytes it was sent, to check what arrived on
the wire. ``TlsTerminator`` accepts TLS on loopback with a throwaway CA (``trustme``) and forwards plaintext to an
``RtmpIngest``, i.e. what a real ``rtmps://`` ingest looks like from the publisher's side.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

READY_LINE = "listening"
EVENT_PREFIX = "ingest-event "


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; return its last truth value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port, without connecting (the ingest accepts only once)."""
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == wanted and fields[3] == "0A":  # 0A = LISTEN
            return True
    return False


class RtmpIngest:
    """A one-shot RTMP ingest on 127.0.0.1 that records what it receives into ``recording_path``."""

    def __init__(self, recording_path: Path, key: str = "test_secret_key_123", app: str = "live") -> None:
        self.port = free_port()
        self.key = key
        self.url = f"rtmp://127.0.0.1:{self.port}/{app}/{key}"
        self.recording_path = Path(recording_path)
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.url, str(self.recording_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""
        self.connected = threading.Event()  # a publisher's stream was accepted
        self.left = threading.Event()  # ...and has ended (hung up, dropped, or the ingest was told to drop it)
        self.connected_at: float | None = None  # wall clock (time.time()) of the accepted publish
        self.last_packet_at: float | None = None  # wall clock of the last packet recorded
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read_output, name="ingest-output", daemon=True)
        self._reader.start()

    @property
    def publishing(self) -> bool:
        """A publisher is connected right now."""
        return self.connected.is_set() and not self.left.is_set()

    def wait_listening(self, timeout: float = 10.0) -> None:
        if not wait_until(lambda: is_listening(self.port) or self.process.poll() is not None, timeout):
            raise TimeoutError(f"RTMP ingest did not listen on port {self.port} within {timeout} s")
        if self.process.poll() is not None:
            self._reader.join(5.0)
            raise RuntimeError(f"RTMP ingest exited early: {''.join(self._lines)}")

    def kill(self) -> None:
        """The ingest dies: the publisher sees a reset."""
        self._signal(signal.SIGKILL)

    def freeze(self) -> None:
        """The ingest stops reading: its socket buffers fill, nothing is reset."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def drop_publisher(self) -> None:
        """The ingest hangs up on the publisher (closes the connection) and finishes its recording."""
        self._signal(signal.SIGUSR1)

    def stop(self, timeout: float = 10.0) -> str:
        """Wait for a graceful end (the publisher disconnected) and return the ingest's output.

        Kills the ingest if it does not finish in ``timeout``; the recording stays decodable either way.
        """
        self.thaw()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(5.0)
        self.output = "".join(self._lines)
        return self.output

    def close(self) -> None:
        if self.process.poll() is None:
            self.thaw()
            self.process.kill()
        self.process.wait()
        self._reader.join(5.0)
        self.output = "".join(self._lines)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(EVENT_PREFIX):
                kind, _, stamps = line[len(EVENT_PREFIX):].strip().partition(" ")
                values = [float(v) for v in stamps.split()]
                if kind == "connected":
                    self.connected_at = values[0]
                    self.connected.set()
                elif kind == "left":
                    self.last_packet_at = values[1] if len(values) > 1 and values[1] > 0 else None
                    self.left.set()
                continue
            self._lines.append(line)
        self.left.set()  # the process ended: whoever was publishing is gone
        self.process.stdout.close()

    def _signal(self, sig: int) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)


class TlsTerminator:
    """Loopback TLS server (asyncio on a thread) that forwards plaintext to ``target_port``."""

    def __init__(self, server_context: ssl.SSLContext, target_port: int) -> None:
        self._context = server_context
        self._target_port = target_port
        self.bytes_forwarded = 0  # plaintext bytes passed on to the target
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="tls-terminator", daemon=True)
        self._thread.start()
        if not self._ready.wait(5.0):
            raise TimeoutError("TLS terminator did not start")

    def close(self) -> None:
        if self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5.0)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
            except OSError:
                writer.transport.abort()
                return
            try:
                await asyncio.gather(self._pump(reader, target_writer, count=True), self._pump(target_reader, writer))
            finally:
                writer.transport.abort()
                target_writer.transport.abort()

        server = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=self._context)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for task in tasks:
                task.cancel()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool = False) -> None:
        try:
            while data := await reader.read(65536):
                if count:
                    self.bytes_forwarded += len(data)
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.transport.abort()


class _LoopbackProxy:
    """A plain TCP proxy on 127.0.0.1 in front of ``target_port``, for one connection. Subclasses decide what
    happens to the client->server bytes (``_inbound``) and whether to keep reading (``_may_read``). Threads
    with blocking sockets: the publisher runs in a child process, so nothing here competes with a
    GIL-holding connect."""

    def __init__(self, target_port: int, name: str, rcvbuf: int | None = None) -> None:
        self._target_port = target_port
        self._listener = socket.socket()
        if rcvbuf:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # inherited when accepted
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._listener.close()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._thread.join(5.0)

    def _may_read(self) -> bool:
        return True

    def _inbound(self, data: bytes) -> bytes:
        return data

    def _serve(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:  # closed before anyone connected
            return
        self._listener.close()
        target = socket.create_connection(("127.0.0.1", self._target_port))
        self._sockets += [client, target]
        back = threading.Thread(target=self._pump_back, args=(target, client), daemon=True)
        back.start()
        try:
            while self._may_read() and (data := client.recv(65536)):
                target.sendall(self._inbound(data))
            target.shutdown(socket.SHUT_WR)  # pass the publisher's graceful end on as a FIN
        except OSError:
            pass
        back.join(5.0)

    @staticmethod
    def _pump_back(source: socket.socket, dest: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                dest.sendall(data)
        except OSError:
            pass


class RecordingProxy(_LoopbackProxy):
    """Keeps every client->server byte in ``received`` (what the ingest was sent)."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port, "recording-proxy")
        self.received = bytearray()
        self._lock = threading.Lock()
        self._start()

    def snapshot(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def _inbound(self, data: bytes) -> bytes:
        with self._lock:
            self.received += data
        return data


class PingDeafProxy(_LoopbackProxy):
    """Makes the ingest look like one that ignores RTMP pings: it drops every PingRequest on its way in
    (``pings_dropped`` counts them). It can also stop reading from the publisher (``stop_reading``), i.e. an
    ingest that froze.

    Dropping a whole type-0 message on chunk stream 2 is safe because the relay sends the publisher's next
    message on that stream with a full header after each ping.

    Its receive buffer is fixed at ``rcvbuf`` (no autotuning): TCP-window stall detection sees a reader
    that stops only once the buffer is full, and an autotuned loopback buffer grows to megabytes."""

    def __init__(self, target_port: int, rcvbuf: int = 64 * 1024) -> None:
        from streamer.media.rtmp_chunks import ChunkTracker

        super().__init__(target_port, "ping-deaf-proxy", rcvbuf=rcvbuf)
        self._tracker = ChunkTracker()
        self._held: bytearray | None = None
        self._held_size = 0
        self.pings_dropped = 0
        self._reading = threading.Event()
        self._reading.set()
        self._start()

    def stop_reading(self) -> None:
        self._reading.clear()

    def close(self) -> None:
        self._reading.set()
        super().close()

    def _may_read(self) -> bool:
        return self._reading.wait()

    def _inbound(self, data: bytes) -> bytes:
        out = bytearray()
        for event in self._tracker.feed(data):
            if event[0] == "header":
                header = event[1]
                if header.csid == 2 and header.type_id == 4 and header.length == 6 and header.starts_message:
                    self._held = bytearray(header.raw)  # a User Control message: a ping if event 6
                    self._held_size = len(header.raw) + 6
                else:
                    out += header.raw
            elif event[0] == "raw":
                if self._held is None:
                    out += event[1]
                    continue
                self._held += event[1]
                if len(self._held) == self._held_size:
                    if self._held[-6:-4] == b"\x00\x06":
                        self.pings_dropped += 1
                    else:
                        out += self._held
                    self._held = None
        return bytes(out)


class SyntheticStream:
    """Encodes an H.264 + AAC stream with PyAV into a file object on its own thread, paced to real time.

    Noise frames at ``bit_rate`` make the byte rate realistic (stall detection depends on it). Stops at
    ``seconds`` or on ``stop()``; an exception from the sink (``OutputBroken``) ends it and is kept in
    ``error``.
    """

    def __init__(self, sink: object, seconds: float = 3.0, *, bit_rate: int = 1_500_000, paced: bool = True,
                 size: tuple[int, int] = (320, 240)) -> None:
        self.sink, self.seconds, self.bit_rate, self.paced, self.size = sink, seconds, bit_rate, paced, size
        self.frames = 0
        self.error: BaseException | None = None
        self.error_at: float | None = None
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="synthetic-stream", daemon=True)

    def start(self) -> SyntheticStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import fractions

        import av
        import numpy as np

        width, height = self.size
        rng = np.random.default_rng(1)
        container = None
        try:
            container = av.open(self.sink, "w", format="flv")
            video = container.add_stream(
                "libx264", rate=30, options={"preset": "veryfast", "tune": "zerolatency", "g": "60"}
            )
            video.width, video.height, video.pix_fmt, video.bit_rate = width, height, "yuv420p", self.bit_rate
            audio = container.add_stream("aac", rate=44100, layout="stereo")
            audio.bit_rate = 128_000
            silence = np.zeros((1, 2 * 1024), np.float32)
            samples = 0
            started = time.monotonic()
            total = int(self.seconds * 30)
            for index in range(total):
                if self._stop.is_set():
                    break
                if self.paced:
                    delay = started + index / 30 - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts, frame.time_base = index, fractions.Fraction(1, 30)
                for packet in video.encode(frame):
                    container.mux(packet)
                while samples < (index + 1) * 44100 // 30:
                    chunk = av.AudioFrame.from_ndarray(silence, format="flt", layout="stereo")
                    chunk.sample_rate, chunk.pts = 44100, samples
                    samples += 1024
                    for packet in audio.encode(chunk):
                        container.mux(packet)
                self.frames += 1
            for stream in (video, audio):
                for packet in stream.encode(None):
                    container.mux(packet)
            container.close()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            self.error, self.error_at = exc, time.monotonic()
            if container is not None:
                try:
                    container.close()
                except BaseException:  # noqa: BLE001
                    pass
        finally:
            self.done.set()


def _record(url: str, recording: str) -> int:
    """Child side of ``RtmpIngest``: accept one publisher, remux to ``recording`` until it disconnects."""
    import av

    drop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: drop.set())
    # Announce readiness only through the listening socket (see is_listening); stdout is for the summary.
    source = av.open(url, "r", format="flv", options={"listen": "1", "probesize": "32", "analyzeduration": "0"})
    print(f"{EVENT_PREFIX}connected {time.time():.6f}", flush=True)
    sink = av.open(recording, "w", format="flv", options={"flush_packets": "1"})
    mapping = {stream.index: sink.add_stream_from_template(stream) for stream in source.streams}
    packets = 0
    last_packet_at = 0.0
    ended = "publisher finished"
    try:
        for packet in source.demux():
            if drop.is_set():
                ended = "dropped the publisher"
                break
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            packet.stream = mapping[packet.stream.index]
            sink.mux(packet)
            packets += 1
            last_packet_at = time.time()
    except (av.FFmpegError, OSError) as exc:
        # PyAV's listener reports a publisher that hung up as EIO; the recording is still complete.
        ended = f"publisher disconnected ({type(exc).__name__})"
    sink.close()
    source.close()  # hang up on the publisher (matters for drop_publisher)
    print(f"{EVENT_PREFIX}left {time.time():.6f} {last_packet_at:.6f}", flush=True)
    print(f"{ended}; {packets} packets recorded", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_record(sys.argv[1], sys.argv[2]))

"""Go-live timings against the loopback fake platform with a real RTMP ingest per key.

    python benchmarks/go_live_timing.py [--drops 3] [--live-poll-interval 3]

Measures, running the real command (``python -m streamer scenes/terminal.py --api-url …``) as a subprocess:

- time from command start to ``is_live``: when the fake platform first answered ``is_live: true``, and when
  the command printed ``LIVE after`` (with the document's 3 s status poll, most of it is waiting for a poll);
  also when the ingest accepted the publish (the part that is not polling);
- the gap a viewer sees during a reconnect: the ingest drops the publisher (as a platform ingest does), the
  command gets a fresh key and publishes again; gap = first packet of the new publish − last packet of the old
  one, in wall time, as recorded by the two ingests.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.live_platform import LiveFakeRetake  # noqa: E402
from tests.ingest import wait_until  # noqa: E402
from tests.live.command import GoLiveCommand, write_credentials  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drops", type=int, default=3, help="reconnects to measure (default 3)")
    parser.add_argument("--live-poll-interval", default="3", help="status poll while going live (default: 3, "
                        "the document's value)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "ingest").mkdir()
        with LiveFakeRetake(tmp_path / "ingest") as fake:
            agent = fake.add_agent("BenchAgent", ticker="BNCH", verified=True)
            write_credentials(tmp_path / "config", agent)
            command = GoLiveCommand(fake.base_url, tmp_path / "config", "--live-poll-interval",
                                    args.live_poll_interval, "--health-interval", "5")
            try:
                if not wait_until(lambda: "LIVE after" in command.stdout, 60):
                    print(command.stdout, command.stderr, file=sys.stderr)
                    return 1
                start = command.started_at
                first = fake.ingests[0]
                print(f"command start -> ingest accepted the publish: {first.connected_at - start:6.2f} s")
                print(f"command start -> platform said is_live:     {fake.first_live_at - start:6.2f} s "
                      f"(status polled every {args.live_poll_interval} s)")
                print(f"command start -> command printed LIVE:      {command.line_time('LIVE after') - start:6.2f} s")

                gaps, resumes = [], []
                for drop in range(args.drops):
                    current = fake.current_ingest
                    count = len(fake.ingests)
                    # Let it publish a while so the drop happens mid-stream.
                    threading.Event().wait(2.0)
                    dropped = time.time()
                    current.drop_publisher()
                    if not wait_until(lambda: len(fake.ingests) > count and fake.current_ingest.publishing, 30):
                        print(f"drop {drop + 1}: no new publish within 30 s", file=sys.stderr)
                        break
                    new = fake.current_ingest
                    wait_until(current.left.is_set, 10)
                    gap = new.connected_at - (current.last_packet_at or dropped)
                    gaps.append(gap)
                    resumes.append(new.connected_at - dropped)
                    print(f"reconnect {drop + 1}: viewer gap {gap:5.2f} s (drop -> new publish {resumes[-1]:5.2f} s)")
                if gaps:
                    print(f"viewer gap during a reconnect: median {statistics.median(gaps):.2f} s, "
                          f"max {max(gaps):.2f} s over {len(gaps)} reconnect(s)")
                command.signal(signal.SIGINT)
                code = command.wait(30)
                print(command.stdout.strip().splitlines()[-1])
                return code
            finally:
                command.kill()


if __name__ == "__main__":
    sys.exit(main())

"""Serve burst: many connections at once (a viewer asking for a screenful of tiles); how long until each is answered?

A ``PreviewServer`` (the server of ``dzbuild serve``) runs on a small folder; ``--clients`` threads
connect at the same moment, each asks for one 20 kB tile and reads it to the end. The time of each
client runs from that moment to its last byte. A connection the kernel had to refuse (a listen
queue too short) is retried by the client's TCP after 1 s, then 3 s, 7 s...: those show up as
answers over a second. Not a test: the numbers depend on the machine and its load.

    python bench/serve_burst.py                 # 150 clients, 3 rounds
    python bench/serve_burst.py --clients 500
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dzbuild.site.serve import PreviewServer  # noqa: E402

REQUEST = b"GET /a/tile.jpg HTTP/1.1\r\nHost: preview\r\nConnection: close\r\n\r\n"
GIVE_UP = 30.0  # seconds: a client still waiting then is counted as unanswered


def one_client(port: int, start: threading.Barrier, times: list, index: int) -> None:
    start.wait()  # every client and the main thread here: they connect together
    began = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP) as sock:
            sock.sendall(REQUEST)
            while sock.recv(65536):
                pass
        times[index] = time.monotonic() - began
    except OSError:
        times[index] = float("inf")


def burst(port: int, clients: int) -> list[float]:
    """Every client's time to its answer, in seconds (inf: none within ``GIVE_UP``)."""
    start, times = threading.Barrier(clients + 1), [0.0] * clients
    threads = [threading.Thread(target=one_client, args=(port, start, times, i)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    return times


def run_benchmark(clients: int, rounds: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        output, cache = Path(folder) / "out", Path(folder) / "cache"
        (output / "a").mkdir(parents=True)
        cache.mkdir()
        (output / "a" / "tile.jpg").write_bytes(bytes(20_000))
        server = PreviewServer(0, output, cache, "/")
        server.start()
        try:
            return [summary(burst(server.server_address[1], clients), server.request_queue_size) for _ in range(rounds)]
        finally:
            server.stop()


def summary(times: list[float], backlog: int) -> dict:
    answered = sorted(t for t in times if t != float("inf"))
    return {
        "backlog": backlog,
        "clients": len(times),
        "median": statistics.median(answered) if answered else float("inf"),
        "max": max(times),
        "over_1s": sum(t > 1 for t in times),
        "unanswered": len(times) - len(answered),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    for row in run_benchmark(args.clients, args.rounds):
        print(
            f"listen backlog {row['backlog']}: {row['clients']} clients at once: median {row['median']:.3f} s,"
            f" slowest {row['max']:.3f} s, {row['over_1s']} over 1 s, {row['unanswered']} unanswered in {GIVE_UP:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

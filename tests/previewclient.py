"""Talking to the preview server in tests: raw requests (no client-side clean-up of the path), an
in-process server on a folder made inline, and ``dzbuild serve`` as the real command.
"""

from __future__ import annotations

import http.client
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from dzbuild.site.serve import PreviewServer


def request(
    url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """One request; the path goes out exactly as written. Status, headers (lower-case names), body."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def raw_exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Bytes sent as they are; everything the server answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


class InProcess:
    """A ``PreviewServer`` on ``output`` (at ``base``), started in this process."""

    def __init__(self, output: Path, cache: Path, base: str = "/", **options) -> None:
        self.server = PreviewServer(0, output, cache, base, **options)
        self.port = self.server.server_address[1]
        self.url = self.server.url

    def start(self) -> InProcess:
        self.server.start()
        return self

    def get(self, path: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 5):
        return request(self.url, path, method, headers, timeout)

    def stop(self) -> None:
        self.server.stop()


class Served:
    """A ``dzbuild serve`` process; ``url`` is read from its first lines."""

    def __init__(self, site: Path, *args: str) -> None:
        command = [sys.executable, "-m", "dzbuild", "serve", str(site), "--port", "0", "-j", "2", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for_line(" at http://127.0.0.1:")  # printed once the watcher is in place
        self.url = re.search(r" at (http://127\.0\.0\.1:\d+/\S*) ", line).group(1)

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put("")  # the end

    def get(self, path: str, method: str = "GET", headers: dict[str, str] | None = None):
        return request(self.url, path, method, headers)

    def wait_for_line(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            assert line, f"serve ended: {self.lines} {self.process.stderr.read()}"
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {timeout} s: {self.lines}")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code (0: a clean stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

"""The example site as real hosts see it: Cloudflare's runtime (``wrangler pages dev``) and Netlify's parsers.

Both come from ``package.json`` (``npm ci``). Wrangler runs workerd on 127.0.0.1 and is kept off the
network: no telemetry, no update check, no fetch of the ``Request.cf`` object, logs in a temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
NETLIFY_RULES = Path(__file__).resolve().parent / "netlify_rules.mjs"
COMPATIBILITY_DATE = "2025-01-01"  # any date the pinned workerd supports; the assets server ignores it
OFFLINE = {
    "WRANGLER_SEND_METRICS": "false",
    "WRANGLER_SEND_ERROR_REPORTS": "false",
    "WRANGLER_HIDE_BANNER": "true",  # the banner is what checks the registry for a newer wrangler
    "CLOUDFLARE_CF_FETCH_ENABLED": "false",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need_node_tool(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} is not installed: run `npm ci` in the repository (package.json pins it)")


class Wrangler:
    """``wrangler pages dev OUTPUT`` on ``port``, started in its own process group and killed as one."""

    def __init__(self, output: Path, port: int, scratch: Path) -> None:
        need_node_tool(WRANGLER)
        env = {**os.environ, **OFFLINE, "WRANGLER_LOG_PATH": str(scratch / "logs"), "XDG_CONFIG_HOME": str(scratch)}
        command = [str(WRANGLER), "pages", "dev", str(output), "--ip", "127.0.0.1", "--port", str(port),
                   "--compatibility-date", COMPATIBILITY_DATE]  # fmt: skip
        self.log = scratch / "wrangler.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=scratch, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        self._wait()

    def _wait(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wrangler exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                get(self.url + "/")
                return
            except OSError:
                time.sleep(0.3)
        self.close()
        raise RuntimeError(f"wrangler did not answer within {seconds} s")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, headers: dict | None = None) -> Answer:
    """One request, redirects not followed, errors as answers."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def netlify_rules(output: Path) -> dict:
    """What Netlify's parsers make of ``OUTPUT/_headers`` and ``OUTPUT/_redirects``."""
    need_node_tool(REPO / "node_modules" / "netlify-headers-parser")
    command = ["node", str(NETLIFY_RULES), str(output / "_headers"), str(output / "_redirects")]
    return json.loads(subprocess.run(command, capture_output=True, check=True, cwd=REPO).stdout)

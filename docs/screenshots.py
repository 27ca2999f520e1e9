"""Regenerate the README's screenshots: ``python docs/screenshots.py`` (after ``npm ci``).

Builds the example site into a temporary folder, serves it on 127.0.0.1 and photographs four
pages in headless Chromium (Debian's ``/usr/bin/chromium``, or ``DZBUILD_CHROMIUM``) through
Playwright: the image page, compare mode, the collection and the index. Each is taken at
1280 x 800 and scaled to 720 x 450; the synthetic pictures are noisy, so colours are rounded to
the finest step that keeps a file under 150 KiB.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
CHROMIUM = os.environ.get("DZBUILD_CHROMIUM", "/usr/bin/chromium")
WINDOW = (1280, 800)
SAVED = (720, 450)
LIMIT = 150 * 1024  # bytes a screenshot may take in the repository
STEPS = (1, 4, 8, 12, 16)  # colour steps tried in turn
# name, path and hash, colour scheme, what the README says it shows
SHOTS = [
    ("image-page", "harbour/", "light", "an image page"),
    ("compare", "harbour/#v=1&with=0&mode=swipe&split=0.5&changes=1&x=0.77&y=0.376&z=2.5", "dark", "compare mode"),
    ("collection", "gallery/", "dark", "a collection"),
    ("index", "", "light", "the index"),
]


def build_example(root: Path) -> Path:
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "example_site" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(root)
    from dzbuild.site.build import build_site

    build_site(root, progress="quiet")
    return root / "_site"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def photograph(output: Path, target: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from dzbuild.testing.viewer import CHROMIUM_ARGS

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(output)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    written = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, path, scheme, _ in SHOTS:
                page = browser.new_page(viewport={"width": WINDOW[0], "height": WINDOW[1]}, color_scheme=scheme)
                page.goto(base + path)
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('.viewer[data-state]')).every(e => e.dataset.state"
                    " === 'loaded' || getComputedStyle(e).display === 'none')"
                    " && Array.from(document.images).every(i => i.complete)",
                    timeout=120_000,
                )
                page.wait_for_timeout(800)  # the last tiles' fade-in
                written.append(save(page.screenshot(), target / f"{name}.png"))
                page.close()
            browser.close()
    finally:
        httpd.shutdown()
    return written


def save(png: bytes, path: Path) -> Path:
    """Scale down, then use the finest colour steps that keep the file under LIMIT (noise dithers the steps)."""
    pixels = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    small = cv2.resize(pixels, SAVED, interpolation=cv2.INTER_AREA).astype(np.int16)
    for step in STEPS:
        stepped = np.clip(small // step * step + step // 2, 0, 255) if step > 1 else small
        stepped = stepped.astype(np.uint8)
        encoded = cv2.imencode(".png", stepped, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
        if len(encoded) <= LIMIT:
            break
    path.write_bytes(encoded)
    return path


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    with tempfile.TemporaryDirectory() as tmp:
        for path in photograph(build_example(Path(tmp) / "site"), target):
            print(f"{path}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

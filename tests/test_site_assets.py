"""OpenSeadragon in the output: which copy a site ships (the configured one, else the one dzbuild
pins in package.json, never a ``node_modules`` found near the site or the current folder, which would
ship whatever version that project holds), and its copy, whole or not at all, a failure in one line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sites import PINNED, fake_openseadragon, make_site, write_files

from dzbuild.io.files import PARTIAL_MARK
from dzbuild.site.build import build_site
from dzbuild.testing import unavailable

BUILD = 7


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (CI runs as root and can mount one); elsewhere the test is skipped, in CI it fails."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def big_openseadragon(root: Path, images: int = 200) -> Path:
    """A stand-in OpenSeadragon of about 1.6 MB: more than the small disk holds."""
    folder = fake_openseadragon(root)
    for number in range(images):
        (folder / "images" / f"button{number:03}.png").write_bytes(os.urandom(8000))
    return folder


def site_on(disk: Path, openseadragon: Path) -> Path:
    return make_site(disk, images=("harbour",), config=f'[viewer]\nopenseadragon_dir = "{openseadragon.as_posix()}"\n')


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def test_a_full_disk_while_copying_openseadragon_is_one_line_and_leaves_nothing_half_made(tmp_path, small_disk):
    openseadragon = big_openseadragon(tmp_path / "npm")
    site = site_on(small_disk, openseadragon)
    failed = dzbuild("build", str(site), "--jobs", "1")
    assert failed.returncode == BUILD, failed.stderr
    lines = failed.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 400, failed.stderr  # not a list of every file
    copy = site / "_site" / "_dzbuild" / "openseadragon" / "0.0.0-test"
    assert lines[0].startswith(f"dzbuild: error: {copy}/images/button")  # the file being written
    assert "could not copy OpenSeadragon into the output: No space left on device" in lines[0]
    assert not copy.exists()
    assert [p for p in site.rglob("*") if PARTIAL_MARK in p.name] == []
    for extra in sorted((openseadragon / "images").glob("button*"))[50:]:  # a viewer the disk has room for
        extra.unlink()
    rebuilt = dzbuild("build", str(site), "--jobs", "1")
    assert rebuilt.returncode == 0, rebuilt.stderr
    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(openseadragon).as_posix() for p in openseadragon.rglob("*") if p.is_file())


def test_the_copy_holds_the_minified_script_images_and_licence_only(tmp_path):
    openseadragon = fake_openseadragon(tmp_path / "npm")
    (openseadragon / "openseadragon.js").write_text("/* unminified */")
    (openseadragon / "openseadragon.min.js.map").write_text("{}")
    (openseadragon.parents[1] / "LICENSE.txt").write_text("BSD-3")
    site = site_on(tmp_path, openseadragon)
    assert dzbuild("build", str(site), "--jobs", "1").returncode == 0
    copy = site / "_site" / "_dzbuild" / "openseadragon" / "0.0.0-test"
    files = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert files == {
        "openseadragon.min.js": b"/* stand-in */\n",
        "images/home_rest.png": b"png",
        "LICENSE.txt": b"BSD-3",
    }

REPO = Path(__file__).resolve().parents[1]
PINNED_SCRIPT = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon" / "openseadragon.min.js"


class Scripts(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "script" and dict(attrs).get("src"):
            self.found.append(dict(attrs))


def other_openseadragon(folder: Path) -> None:
    """An npm install of another OpenSeadragon, as a JavaScript project around a site may hold."""
    package = folder / "node_modules" / "openseadragon"
    write_files(package, {"build/openseadragon/openseadragon.min.js": "/* 9.9.9 */\n", "LICENSE.txt": "other"})
    (package / "package.json").write_text(json.dumps({"name": "openseadragon", "version": "9.9.9"}))


def test_a_node_modules_near_the_site_or_the_current_folder_is_never_shipped(tmp_path, monkeypatch):
    site = make_site(tmp_path, config="[viewer]\n", images=("a",))  # no openseadragon_dir: the pinned copy
    other_openseadragon(site)
    other_openseadragon(tmp_path)  # the site's parent, and the current folder below
    monkeypatch.chdir(tmp_path)
    build_site(site)
    shipped = site / "_site" / "_dzbuild" / "openseadragon"
    assert [p.name for p in shipped.iterdir()] == [PINNED]
    assert (shipped / PINNED / "openseadragon.min.js").read_bytes() == PINNED_SCRIPT.read_bytes()
    page = Scripts((site / "_site" / "a" / "index.html").read_text())
    assert any(s["src"].endswith(f"_dzbuild/openseadragon/{PINNED}/openseadragon.min.js") for s in page.found)


def test_the_cdn_mode_loads_the_pinned_version_checked_against_its_bytes(tmp_path):
    site = make_site(tmp_path, config='[viewer]\nopenseadragon = "cdn"\n', images=("a",))
    build_site(site)
    page = Scripts((site / "_site" / "a" / "index.html").read_text())
    script = next(s for s in page.found if "openseadragon.min.js" in s["src"])
    url = f"https://cdn.jsdelivr.net/npm/openseadragon@{PINNED}/build/openseadragon/openseadragon.min.js"
    digest = base64.b64encode(hashlib.sha384(PINNED_SCRIPT.read_bytes()).digest()).decode()
    assert (script["src"], script["integrity"]) == (url, f"sha384-{digest}")


def test_the_pinned_version_is_written_in_package_json_only():
    places = [REPO / "setup.py", *(REPO / folder for folder in ("dzbuild", "tests", "bench"))]
    files = [p for place in places for p in ([place] if place.is_file() else place.rglob("*")) if p.is_file()]
    texts = {p: p.read_bytes() for p in files if p.suffix in {".py", ".html", ".js", ".toml", ".json", ".md"}}
    assert len(texts) > 100
    assert [p.relative_to(REPO) for p, data in texts.items() if PINNED.encode() in data] == []

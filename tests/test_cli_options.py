"""Every command-line option and every configuration key, driven once through the real ``dzbuild``.

Each run is a fresh interpreter (``python -m dzbuild``), so installed entry-point plugins load as
they do for a user. Options are listed from the parser and keys from their declaration
(``dzbuild.site.schema``): a new option or key fails here until it is driven.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes
from sites import add_image, make_site

from dzbuild.maintain.check import check_dest
from dzbuild.site.configdoc import toml_value
from dzbuild.site.schema import declared_keys
from dzbuild.testing import synthetic_image


def dzbuild(*args, ok: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dzbuild", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def record(dest: Path, version: int) -> dict:
    return json.loads((dest / ".dzbuild" / f"v{version}.json").read_text())


def test_version_flags():
    from dzbuild import __version__

    assert dzbuild("-V").stdout == dzbuild("--version").stdout == f"dzbuild {__version__}\n"


def test_pyramid_resampler_rebuild_dest_storage_format_base_url_jobs_json(tmp_path):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    dest = tmp_path / "out"
    args = ["pyramid", image_dir, "--dest", dest, "--storage", "copy", "--jobs", "1", "--json"]
    summary = json.loads(dzbuild(*args, "--resampler", "area", "--format", "zoomify", "--base-url", "/z/").stdout)
    assert summary["dest"] == str(dest) and record(dest, 0)["resampler"] == "area"
    assert (dest / "zoomify" / "v0" / "ImageProperties.xml").is_file()
    area = tree_bytes(dest / "dzi")
    refused = dzbuild(*args, "--resampler", "dct", ok=False)  # published versions keep their resampler...
    assert refused.returncode == 4 and "'area' resampler" in refused.stderr
    dzbuild(*args, "--resampler", "dct", "--rebuild", "-j", "2", "--executor", "fork")  # ...unless all is recomputed
    assert record(dest, 0)["resampler"] == "dct" and tree_bytes(dest / "dzi") != area
    assert not any(p.stat().st_nlink > 1 for p in (dest / "dzi").rglob("*.jpg"))  # --storage copy
    assert check_dest(dest, deep=True, root=tmp_path) == []


def test_site_build_rebuild_progress_jobs_json(tmp_path):
    site = make_site(tmp_path, 'formats = ["dzi", "zoomify"]\n', images=("a",))
    first = dzbuild("build", site, "--progress", "lines")
    assert "[1/1] a: built v0" in first.stderr
    quiet = dzbuild("build", site, "--progress", "quiet")
    assert quiet.stderr == "" and "up to date" in quiet.stdout
    again = json.loads(dzbuild("build", site, "--rebuild", "--json", "-j", "1", "--executor", "inline").stdout)
    assert again["versions_built"] == 1 and again["tiles_computed"] == 10
    assert dzbuild("build", site, "--progress", "bar").stdout.endswith("s)\n")  # no terminal: no bar drawn


def test_collection_dest_storage_jobs(tmp_path):
    folder = tmp_path / "gal"
    for i, (w, h) in enumerate([(120, 80), (64, 200)]):
        make_image_dir(folder / "photos", w, h, 64, seed=i)
    (folder / "collection.toml").write_text('name = "trip"\nimages = ["photos/*"]\n')
    dest = tmp_path / "dzc"
    args = ["collection", folder, "--dest", dest, "--storage", "copy", "-j", "1", "--executor", "inline", "--json"]
    summary = json.loads(dzbuild(*args).stdout)
    assert summary["collection"]["versions_built"] == [0]
    assert (dest / "v0" / "trip.dzc").is_file() and not (folder / "dest").exists()
    assert all(p.stat().st_nlink == 1 for p in (dest / "v0").rglob("*.jpg"))


def test_ingest_tile_size_format_quality_tolerance(tmp_path):
    picture = tmp_path / "scan.png"
    pixels = synthetic_image(300, 200, seed=2)
    cv2.imwrite(str(picture), pixels)
    image = tmp_path / "img"
    args = ["ingest", picture, image]
    first = json.loads(dzbuild(*args, "--tile-size", "64", "--format", "webp", "--quality", "70", "--json").stdout)
    spec = json.loads((image / "pyramid.json").read_text())
    assert (spec["tile_size"], spec["format"], spec["quality"], first["written"]) == (64, "webp", 70, 20)
    cv2.imwrite(str(picture), cv2.add(pixels, 1))  # one level brighter everywhere
    assert json.loads(dzbuild(*args, "--tolerance", "255", "--json").stdout)["version"] is None
    assert json.loads(dzbuild(*args, "--tolerance", "0", "--json").stdout)["version"] == 1


def test_check_root_deep_json(tmp_path):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    dzbuild("pyramid", image_dir, "--storage", "symlink", "-j", "1")
    report = json.loads(dzbuild("check", image_dir, "--deep", "--json").stdout)
    assert report["ok"] and report["checked"][0]["recomputed"] > 0
    narrow = dzbuild("check", image_dir / "dest", "--root", image_dir / "dest", ok=False)  # links reach the sources
    assert narrow.returncode == 1 and "outside" in narrow.stdout


def test_vacuum_keep_dry_run_dest_json(tmp_path):
    image_dir, spec, pixels = make_image_dir(tmp_path, 300, 200, 64)
    for number in (1, 2):
        pixels = add_version(image_dir, spec, number, [base(spec, number, 1)], seed=number, pixels=pixels)
    dest = tmp_path / "out"
    dzbuild("pyramid", image_dir, "--dest", dest, "-j", "1")
    before = tree_bytes(dest)
    planned = json.loads(dzbuild("vacuum", image_dir, "--dest", dest, "--keep", "v0", "--dry-run", "--json").stdout)
    assert planned["dry_run"] and planned["removed"] == [1] and tree_bytes(dest) == before
    done = json.loads(dzbuild("vacuum", image_dir, "--dest", dest, "--keep", "v0", "--json").stdout)
    assert done["removed"] == [1] and not (dest / "dzi" / "v1").exists()
    assert done["entries_removed"] == planned["entries_removed"] and check_dest(dest, deep=True) == []
    assert json.loads(dzbuild("vacuum", image_dir, "--dest", dest, "--remove", "v0", "--json").stdout)["removed"] == [0]


def test_plugins_lists_what_is_installed():
    rows = json.loads(dzbuild("plugins", "--json").stdout)
    assert rows and all("name" in row for row in rows)


# -- The lists stay complete ------------------------------------------------------------------


def options_of_every_command() -> dict[str, tuple[str, ...]]:
    """``"COMMAND --option"``: every spelling of that option (``--jobs``, ``-j``)."""
    from dzbuild.cli import make_parser

    found = {}
    sub = next(a for a in make_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        for action in parser._actions:
            if action.option_strings and "--help" not in action.option_strings:
                found[f"{name} {action.option_strings[-1]}"] = tuple(action.option_strings)
    return found


def test_every_option_of_every_command_is_driven_in_this_file():
    text = Path(__file__).read_text(encoding="utf-8")
    options = options_of_every_command()
    assert not [name for name, spellings in options.items() if not any(f'"{o}"' in text for o in spellings)]


def test_serve_port_and_jobs(tmp_path):
    """``serve -p PORT --jobs 1`` builds, answers on that port and ends on SIGTERM."""
    import socket
    import time
    import urllib.request

    site = make_site(tmp_path, images=("a",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "dzbuild", "serve", str(site), "-p", str(port), "--jobs", "1"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/a/", timeout=5) as response:
                    assert response.status == 200 and b"./dzi/v0/dzi.xml" in response.read()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "Traceback" not in err


# -- Every configuration key, taken from the declaration ----------------------------------------
# Each declared key is set to its declared example in a real site and built by a real process; what
# the key changed is then checked. A new key fails here until its effect is written down below.


@dataclass(frozen=True)
class Effect:
    """What a key's example does to a built site; ``prepare`` makes the site ready for it first."""

    check: Callable[[Path, dict], None]  # (site, the --json summary)
    prepare: Callable[[Path], None] = lambda site: None
    extra: str = ""  # other keys the example needs, in the same table


def page_settings(page: Path) -> list:
    """Every JSON document a page carries in a script element (its viewer settings)."""
    found = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page.read_text(), re.S)
    return [json.loads(text) for text in found]


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return [value] if isinstance(value, str) else []


def scripts(page: Path) -> list[dict]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<script [^>]*>", page.read_text())]


def title_of(page: Path) -> str:
    return re.search(r"<title>(.*?)</title>", page.read_text(), re.S).group(1)


def move_image(site: Path, rel: str) -> None:
    (site / rel).parent.mkdir(parents=True, exist_ok=True)
    (site / "a").rename(site / rel)


def spec_without(site: Path, *keys: str, fmt: str = "jpg") -> None:
    """Image ``p`` whose pyramid.json omits ``keys``, so the site's [tiles] defaults apply."""
    add_image(site, "p", fmt=fmt)
    spec = json.loads((site / "p" / "pyramid.json").read_text())
    (site / "p" / "pyramid.json").write_text(json.dumps({k: v for k, v in spec.items() if k not in keys}))


def vendor_openseadragon(site: Path) -> None:
    folder = site / "vendor" / "openseadragon"
    (folder / "images").mkdir(parents=True)
    (folder / "openseadragon.min.js").write_text("/* vendored */\n")
    (folder / "images" / "home_rest.png").write_text("png")


def theme(site: Path) -> None:
    (site / "theme" / "assets").mkdir(parents=True)
    (site / "theme" / "assets" / "site.css").write_text("body { color: teal }\n")


def tiles_of(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.jpg")]


def dzc(site: Path, path: str, name: str = "c") -> str:
    return (site / "_site" / path / "v0" / f"{name}.dzc").read_text()


OUT = "_site/a"
CDN = '[viewer]\nopenseadragon = "cdn"\n'
COLLECTION = '[[collections]]\nname = "c"\nimages = ["maps/*"]\n'
EFFECTS = {
    "source": Effect(lambda site, s: (site / OUT / "dzi" / "v0" / "dzi.xml").is_file() or pytest.fail("not built"),
                     prepare=lambda site: move_image(site, "content/a")),
    "output": Effect(lambda site, s: assert_all((site / "public/zoom/a/index.html").is_file(),
                                                not (site / "_site").exists())),
    "cache": Effect(lambda site, s: assert_all((site / ".cache/dz/tree/a/.dzbuild/v0.json").is_file(),
                                               not (site / ".dzbuild").exists())),
    "templates": Effect(lambda site, s: assert_all((site / "_site/_dzbuild/assets/site.css").is_file()), theme),
    "title": Effect(lambda site, s: assert_all(title_of(site / "_site/index.html") == "My scans")),
    "base_url": Effect(lambda site, s: assert_all("/zoom/a/dzi/v*" in (site / "_site/_headers").read_text())),
    "storage": Effect(lambda site, s: assert_all(
        tiles_of(site / OUT), all(p.stat().st_nlink == 1 and not p.is_symlink() for p in tiles_of(site / OUT)))),
    "resampler": Effect(lambda site, s: assert_all(record(site / ".dzbuild/tree/a", 0)["resampler"] == "area")),
    "formats": Effect(lambda site, s: assert_all((site / OUT / "zoomify/v0/ImageProperties.xml").is_file())),
    "jobs": Effect(lambda site, s: assert_all(s["workers"] == 1)),
    "executor": Effect(lambda site, s: assert_all(s["executor"] == "inline")),
    "host": Effect(lambda site, s: assert_all((site / "_site/.nojekyll").is_file())),
    "headers_file": Effect(lambda site, s: assert_all("/a/dzi/v*" in (site / "_headers").read_text(),
                                                      not (site / "_site/_headers").exists())),
    "redirects_file": Effect(lambda site, s: assert_all(not (site / "_site/_redirects").exists(),
                                                        (site / "_site/_headers").is_file())),
    "data_file": Effect(lambda site, s: assert_all(
        json.loads((site / "data/dzbuild.json").read_text())["images"]["a"]["descriptor"] == "/a/dzi/v0/dzi.xml")),
    "tiles.format": Effect(lambda site, s: assert_all('Format="png"' in (site / "_site/p/dzi/v0/dzi.xml").read_text()),
                           prepare=lambda site: spec_without(site, "format", fmt="png")),
    "tiles.quality": Effect(lambda site, s: assert_all(record(site / ".dzbuild/tree/p", 0)["spec"]["quality"] == 90),
                            prepare=lambda site: spec_without(site, "quality")),
    "viewer.openseadragon": Effect(lambda site, s: assert_all(any(
        "cdn.jsdelivr.net" in tag.get("src", "") and tag.get("integrity") for tag in scripts(site / OUT / "index.html")
    ))),
    "viewer.openseadragon_dir": Effect(lambda site, s: assert_all(
        "/* vendored */" in next((site / "_site/_dzbuild/openseadragon").rglob("openseadragon.min.js")).read_text()),
        vendor_openseadragon),
    "viewer.cdn_url": Effect(lambda site, s: assert_all(
        {"src": "https://cdn.example/openseadragon.min.js", "integrity": "sha384-AAAA", "crossorigin": "anonymous"}
        in scripts(site / OUT / "index.html")), extra='openseadragon = "cdn"\ncdn_integrity = "sha384-AAAA"\n'),
    "viewer.cdn_integrity": Effect(lambda site, s: assert_all(
        any(tag.get("integrity") == "sha384-AAAA" for tag in scripts(site / OUT / "index.html"))),
        extra='openseadragon = "cdn"\ncdn_url = "https://cdn.example/openseadragon.min.js"\n'),
    "viewer.options": Effect(lambda site, s: assert_all(
        any(doc.get("options") == {"showNavigator": False} for doc in page_settings(site / OUT / "index.html")))),
    "viewer.format": Effect(lambda site, s: assert_all(  # the page opens the Zoomify tiles, not the DZI
        "zoomify/v0/" in strings_in(page_settings(site / OUT / "index.html")),
        not any("dzi/" in text for text in strings_in(page_settings(site / OUT / "index.html"))))),
    "collections[].name": Effect(lambda site, s: assert_all((site / "_site/maps/v0/maps.dzc").is_file())),
    "collections[].images": Effect(lambda site, s: assert_all('Source="../../maps/a/dzi/v0/' in dzc(site, "c"))),
    "collections[].path": Effect(lambda site, s: assert_all((site / "_site/gallery/maps/index.html").is_file())),
    "collections[].title": Effect(lambda site, s: assert_all("Old maps" in title_of(site / "_site/c/index.html"))),
    "collections[].tile_size": Effect(lambda site, s: assert_all('TileSize="512"' in dzc(site, "c"))),
    "collections[].max_level": Effect(lambda site, s: assert_all('MaxLevel="7"' in dzc(site, "c"))),
    "collections[].quality": Effect(lambda site, s: assert_all('Quality="0.8"' in dzc(site, "c"))),
}
NEEDS = {"viewer.format": 'formats = ["dzi", "zoomify"]\n'}  # top-level keys an example of a table needs


def assert_all(*conditions) -> None:
    assert all(conditions), conditions


def site_toml(name: str, spec, effect: Effect, osd: str) -> str:
    """dzbuild.toml setting ``name`` to its declared example (a collection's keys inside one collection)."""
    table, _, leaf = name.rpartition(".")
    line = f"{leaf} = {toml_value(spec.example)}\n"
    viewer = f'[viewer]\nopenseadragon_dir = "{osd}"\n'
    if not table:
        return line + viewer
    if table == "collections[]":
        body = [row for row in COLLECTION.splitlines(keepends=True)[1:] if not row.startswith(leaf + " ")]
        return viewer + "[[collections]]\n" + "".join(body) + line
    head = NEEDS.get(name, "")
    if table == "viewer":
        extra = effect.extra + ("" if leaf in ("openseadragon", "openseadragon_dir") or "cdn" in effect.extra
                                else f'openseadragon_dir = "{osd}"\n')
        return head + "[viewer]\n" + line + extra
    return head + viewer + f"[{table}]\n" + line


@pytest.mark.parametrize("name", sorted(declared_keys()))
def test_every_configuration_key_changes_a_real_build(tmp_path, name):
    """The key's declared example, built by ``dzbuild build``, does what the key says."""
    spec = declared_keys()[name]
    effect = EFFECTS.get(name) or pytest.fail(f"no effect of {name!r} written in EFFECTS: add one")
    images = ("maps/a",) if name.startswith("collections[]") else ("a",)
    site = make_site(tmp_path, images=images)
    osd = (tmp_path / "fake-openseadragon" / "build" / "openseadragon").as_posix()
    (site / "dzbuild.toml").write_text(site_toml(name, spec, effect, osd))
    effect.prepare(site)
    effect.check(site, json.loads(dzbuild("build", site, "--json").stdout))

"""Every command-line option and every configuration key, driven once through the real ``dzbuild``.

Each run is a fresh interpreter (``python -m dzbuild``), so installed entry-point plugins load as
they do for a user. The last tests keep the lists honest: every option the parser declares gets a
test of its own, which passes once the scenario test of its command has run ``dzbuild`` with it
(running that scenario first if this session has not), and every key of the declaration
(``dzbuild.site.schema``) is set in a real build whose effect is checked: a new option or key fails
here until it is driven.
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
from sites import FAKE_OSD, add_image, make_site

from dzbuild.cli import make_parser
from dzbuild.maintain.check import check_dest
from dzbuild.site.configdoc import toml_value
from dzbuild.site.schema import declared_keys
from dzbuild.testing import synthetic_image

DRIVEN: set[str] = set()  # "COMMAND --option" of every option a run of this module passed to dzbuild


def drive(args) -> list[str]:
    """The arguments as strings, each option among them noted in ``DRIVEN`` as the parser names it."""
    args = [str(a) for a in args]
    if args and args[0] in SCENARIOS:
        actions = make_parser(args[0])._option_string_actions
        DRIVEN.update(f"{args[0]} {actions[a].option_strings[-1]}" for a in args[1:] if a in actions)
    return args


def dzbuild(*args, ok: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dzbuild", *drive(args)]
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


@pytest.mark.parametrize("option", sorted(options_of_every_command()))
def test_every_option_of_every_command_is_driven(option, tmp_path):
    command = option.split()[0]
    if option not in DRIVEN:  # this session has not run the scenario of its command yet
        SCENARIOS[command](tmp_path)
    assert option in DRIVEN, f"no scenario runs `dzbuild {option}`: drive it in SCENARIOS[{command!r}]"


def test_serve_port_and_jobs(tmp_path):
    """``serve -p PORT --jobs 1`` builds, answers on that port and ends on SIGTERM."""
    import socket
    import time
    import urllib.request

    site = make_site(tmp_path, images=("a",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "dzbuild", *drive(["serve", site, "-p", port, "--jobs", "1"])]
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
# Each declared key is set to its declared example in a real site, built by a real process, and what
# the key changed is checked. A new key fails here until its effect is written down below.


@dataclass(frozen=True)
class Effect:
    """What a key's example does to a built site; ``prepare`` makes the site ready for it first."""

    check: Callable[[Path, dict], None]  # (site, the --json summary)
    prepare: Callable[[Path], None]
    extra: str = ""  # other keys of the same table the example needs


EFFECTS: dict[str, Effect] = {}
NEEDS = {"viewer.format": 'formats = ["dzi", "zoomify"]\n'}  # top-level keys a table's example needs
COLLECTION = {"name": '"c"', "images": '["maps/*"]'}  # the collection a collection's key is tried in
CDN_URL, INTEGRITY = "https://cdn.example/openseadragon.min.js", "sha384-AAAA"


def effect(name: str, prepare: Callable[[Path], None] = lambda site: None, extra: str = ""):
    """Register the decorated function as the check of what ``name``'s declared example does."""

    def register(check):
        EFFECTS[name] = Effect(check, prepare, extra)
        return check

    return register


def page_settings(page: Path) -> list[str]:
    """Every string in the JSON documents a page carries in script elements (its viewer settings)."""
    found = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page.read_text(), re.S)
    return [text for document in found for text in strings_in(json.loads(document))]


def page_options(page: Path) -> list:
    found = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page.read_text(), re.S)
    return [json.loads(document).get("options") for document in found]


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return [value] if isinstance(value, str) else []


def scripts(page: Path) -> list[dict]:
    """The attributes of every script element of a page."""
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<script [^>]*>", page.read_text())]


def title_of(page: Path) -> str:
    return re.search(r"<title>(.*?)</title>", page.read_text(), re.S).group(1)


def dzc(site: Path, path: str, name: str = "c") -> str:
    return (site / "_site" / path / "v0" / f"{name}.dzc").read_text()


def image_without(*keys: str, fmt: str = "jpg") -> Callable[[Path], None]:
    """Add image ``p`` whose pyramid.json omits ``keys``, so that the site's [tiles] defaults apply."""

    def prepare(site: Path) -> None:
        add_image(site, "p", fmt=fmt)
        spec = json.loads((site / "p" / "pyramid.json").read_text())
        (site / "p" / "pyramid.json").write_text(json.dumps({k: v for k, v in spec.items() if k not in keys}))

    return prepare


def move_image_to_content(site: Path) -> None:
    (site / "content").mkdir()
    (site / "a").rename(site / "content" / "a")


def add_theme(site: Path) -> None:
    (site / "theme" / "assets").mkdir(parents=True)
    (site / "theme" / "assets" / "site.css").write_text("body { color: teal }\n")


def add_vendored_openseadragon(site: Path) -> None:
    folder = site / "vendor" / "openseadragon"
    (folder / "images").mkdir(parents=True)
    (folder / "openseadragon.min.js").write_text("/* vendored */\n")
    (folder / "images" / "home_rest.png").write_text("png")


@effect("source", prepare=move_image_to_content)
def source_is_searched_for_images(site, summary):
    assert summary["images"] == 1 and (site / "_site/a/dzi/v0/dzi.xml").is_file()


@effect("output")
def output_is_where_the_site_goes(site, summary):
    assert (site / "public/zoom/a/index.html").is_file() and not (site / "_site").exists()


@effect("cache")
def cache_holds_the_pyramids_and_state(site, summary):
    assert (site / ".cache/dz/tree/a/.dzbuild/v0.json").is_file() and not (site / ".dzbuild").exists()


@effect("templates", prepare=add_theme)
def templates_override_and_add_assets(site, summary):
    assert (site / "_site/_dzbuild/assets/site.css").read_text() == "body { color: teal }\n"


@effect("title")
def title_names_the_index(site, summary):
    assert title_of(site / "_site/index.html") == "My scans"


@effect("base_url")
def base_url_prefixes_the_headers(site, summary):
    assert "\n/zoom/a/dzi/v*\n" in (site / "_site/_headers").read_text()


@effect("storage")
def storage_copy_copies_tiles(site, summary):
    tiles = list((site / "_site/a/dzi").rglob("*.jpg"))
    assert tiles and all(p.stat().st_nlink == 1 and not p.is_symlink() for p in tiles)


@effect("resampler")
def resampler_makes_the_parents(site, summary):
    assert record(site / ".dzbuild/tree/a", 0)["resampler"] == "area"


@effect("formats")
def formats_are_published(site, summary):
    assert (site / "_site/a/zoomify/v0/ImageProperties.xml").is_file()


@effect("jobs")
def jobs_is_the_worker_count(site, summary):
    assert summary["workers"] == 1


@effect("executor")
def executor_runs_the_work(site, summary):
    assert summary["executor"] == "inline"


@effect("host")
def host_github_pages_gets_nojekyll(site, summary):
    assert (site / "_site/.nojekyll").is_file()


@effect("headers_file")
def headers_file_moves_headers(site, summary):
    assert "\n/a/dzi/v*\n" in (site / "_headers").read_text() and not (site / "_site/_headers").exists()


@effect("redirects_file")
def redirects_file_false_writes_none(site, summary):
    assert (site / "_site/_headers").is_file() and not (site / "_site/_redirects").exists()


@effect("data_file")
def data_file_lists_the_images(site, summary):
    assert json.loads((site / "data/dzbuild.json").read_text())["images"]["a"]["descriptor"] == "/a/dzi/v0/dzi.xml"


@effect("tiles.format", prepare=image_without("format", fmt="png"))
def tiles_format_is_the_default_format(site, summary):
    assert 'Format="png"' in (site / "_site/p/dzi/v0/dzi.xml").read_text()


@effect("tiles.quality", prepare=image_without("quality"))
def tiles_quality_is_the_default_quality(site, summary):
    assert record(site / ".dzbuild/tree/p", 0)["spec"]["quality"] == 90


@effect("viewer.openseadragon")
def openseadragon_from_a_cdn(site, summary):
    cdn = [tag for tag in scripts(site / "_site/a/index.html") if tag.get("src", "").startswith("https://cdn.jsdelivr")]
    assert cdn and cdn[0]["integrity"].startswith("sha384-"), cdn


@effect("viewer.openseadragon_dir", prepare=add_vendored_openseadragon)
def openseadragon_dir_is_copied(site, summary):
    (script,) = (site / "_site/_dzbuild/openseadragon").rglob("openseadragon.min.js")
    assert script.read_text() == "/* vendored */\n"


@effect("viewer.cdn_url", extra=f'openseadragon = "cdn"\ncdn_integrity = "{INTEGRITY}"\n')
def cdn_url_is_loaded(site, summary):
    assert {"src": CDN_URL, "integrity": INTEGRITY, "crossorigin": "anonymous"} in scripts(site / "_site/a/index.html")


@effect("viewer.cdn_integrity", extra=f'openseadragon = "cdn"\ncdn_url = "{CDN_URL}"\n')
def cdn_integrity_is_checked(site, summary):
    assert any(tag.get("integrity") == INTEGRITY for tag in scripts(site / "_site/a/index.html"))


@effect("viewer.options")
def options_reach_the_viewer(site, summary):
    assert {"showNavigator": False} in page_options(site / "_site/a/index.html")


@effect("viewer.format")
def format_is_what_the_page_opens(site, summary):
    strings = page_settings(site / "_site/a/index.html")
    assert "zoomify/v0/" in strings and not any("dzi/" in text for text in strings), strings


@effect("collections[].name")
def collection_name_names_its_files(site, summary):
    assert (site / "_site/maps/v0/maps.dzc").is_file()


@effect("collections[].images")
def collection_images_are_its_members(site, summary):
    assert 'Source="../../maps/a/dzi/v0/' in dzc(site, "c")


@effect("collections[].path")
def collection_path_is_its_folder(site, summary):
    assert (site / "_site/gallery/maps/index.html").is_file() and (site / "_site/gallery/maps/v0/c.dzc").is_file()


@effect("collections[].title")
def collection_title_names_its_page(site, summary):
    assert "Old maps" in title_of(site / "_site/c/index.html")


@effect("collections[].tile_size")
def collection_tile_size(site, summary):
    assert 'TileSize="512"' in dzc(site, "c")


@effect("collections[].max_level")
def collection_max_level(site, summary):
    assert 'MaxLevel="7"' in dzc(site, "c")


@effect("collections[].quality")
def collection_quality(site, summary):
    assert 'Quality="0.8"' in dzc(site, "c")


def site_toml(name: str, example, effect: Effect, osd: str) -> str:
    """A dzbuild.toml setting ``name`` to ``example`` (a collection's key inside one collection)."""
    table, _, leaf = name.rpartition(".")
    line = f"{leaf} = {toml_value(example)}\n"
    local = f'openseadragon_dir = "{osd}"\n'  # the stand-in, unless the key is about OpenSeadragon
    if table == "viewer":
        about_osd = leaf in ("openseadragon", "openseadragon_dir") or "cdn" in effect.extra
        return NEEDS.get(name, "") + "[viewer]\n" + line + effect.extra + ("" if about_osd else local)
    if table == "collections[]":
        others = "".join(f"{k} = {v}\n" for k, v in COLLECTION.items() if k != leaf)
        return "[viewer]\n" + local + "\n[[collections]]\n" + others + line
    if table:
        return f"[viewer]\n{local}\n[{table}]\n{line}"
    return line + "\n[viewer]\n" + local


@pytest.mark.parametrize("name", sorted(declared_keys()))
def test_every_configuration_key_changes_a_real_build(tmp_path, name):
    """The key's declared example, built by ``dzbuild build``, does what the key says."""
    if name not in EFFECTS:
        pytest.fail(f"{name!r} is declared but not driven: add its @effect to this file")
    effect = EFFECTS[name]
    site = make_site(tmp_path, images=("maps/a",) if name.startswith("collections[]") else ("a",))
    osd = (tmp_path / FAKE_OSD / "build" / "openseadragon").as_posix()
    (site / "dzbuild.toml").write_text(site_toml(name, declared_keys()[name].example, effect, osd))
    effect.prepare(site)
    effect.check(site, json.loads(dzbuild("build", site, "--json").stdout))


# The test that drives each command's options, for the option tests above.
SCENARIOS = {
    "build": test_site_build_rebuild_progress_jobs_json,
    "serve": test_serve_port_and_jobs,
    "pyramid": test_pyramid_resampler_rebuild_dest_storage_format_base_url_jobs_json,
    "collection": test_collection_dest_storage_jobs,
    "ingest": test_ingest_tile_size_format_quality_tolerance,
    "check": test_check_root_deep_json,
    "vacuum": test_vacuum_keep_dry_run_dest_json,
    "plugins": lambda tmp_path: test_plugins_lists_what_is_installed(),
    "init": lambda tmp_path: None,  # no options of its own
}

"""Every command-line option and every configuration key, driven once through the real ``dzbuild``.

Each run is a fresh interpreter (``python -m dzbuild``), so installed entry-point plugins load as
they do for a user. The last tests keep the lists honest: every option the parser declares gets a
test of its own, which passes once the scenario test of its command has run ``dzbuild`` with it
(running that scenario first if this session has not), and a new key fails until it is driven.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from imagedirs import add_version, base, make_image_dir, tree_bytes
from sites import make_site

from dzbuild.cli import make_parser
from dzbuild.maintain.check import check_dest
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


def test_site_build_rebuild_progress_jobs_json_and_the_less_used_keys(tmp_path):
    config = 'formats = ["dzi", "zoomify"]\nresampler = "area"\njobs = 1\nhost = "netlify"\nredirects_file = false\n'
    site = make_site(tmp_path, config, images=("a",))
    first = dzbuild("build", site, "--progress", "lines")
    assert "[1/1] a: built v0" in first.stderr
    out, cache = site / "_site", site / ".dzbuild" / "tree" / "a"
    assert (out / "a" / "zoomify" / "v0" / "ImageProperties.xml").is_file()  # formats
    assert record(cache, 0)["resampler"] == "area" and record(cache, 0)["formats"] == ["dzi", "zoomify"]
    assert (out / "_headers").is_file() and not (out / "_redirects").exists()  # redirects_file = false
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


def test_a_viewer_from_a_cdn_with_its_integrity_hash(tmp_path):
    url, integrity = "https://cdn.example/osd/openseadragon.min.js", "sha384-" + "A" * 64
    viewer = f'[viewer]\nopenseadragon = "cdn"\ncdn_url = "{url}"\ncdn_integrity = "{integrity}"\n'
    site = make_site(tmp_path, viewer, images=("a",))
    dzbuild("build", site)
    page = (site / "_site" / "a" / "index.html").read_text()
    assert f'<script src="{url}" integrity="{integrity}" crossorigin="anonymous">' in page


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


def test_every_configuration_key_is_driven_somewhere_in_the_tests():
    from dzbuild.site import config

    tests = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    tables = {"": config.TOP_KEYS, "tiles": config.TILES_KEYS, "viewer": config.VIEWER_KEYS}
    keys = {key for table in tables.values() for key in table} | set(config.COLLECTION_KEYS)
    assert {key for key in keys if f"{key} = " not in tests} == set()


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


# The test that drives each command's options, for the option tests above.
SCENARIOS = {
    "build": test_site_build_rebuild_progress_jobs_json_and_the_less_used_keys,
    "serve": test_serve_port_and_jobs,
    "pyramid": test_pyramid_resampler_rebuild_dest_storage_format_base_url_jobs_json,
    "collection": test_collection_dest_storage_jobs,
    "ingest": test_ingest_tile_size_format_quality_tolerance,
    "check": test_check_root_deep_json,
    "vacuum": test_vacuum_keep_dry_run_dest_json,
    "plugins": lambda tmp_path: test_plugins_lists_what_is_installed(),
    "init": lambda tmp_path: None,  # no options of its own
}

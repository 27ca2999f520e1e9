"""The bad-input corpus: every case through the real command line, one row each.

For every row: the documented non-zero exit code, stderr exactly one line naming the file and what
is wrong, no traceback anywhere, and the image folder (sources and output) exactly as before:
same paths, link targets, inodes, sizes, mtimes and bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

import numpy as np
import pytest
from imagedirs import make_image_dir

from dzbuild.io import codec
from dzbuild.maintain.check import check_dest
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.site.pages import URL_SAFE
from dzbuild.testing import synthetic_image, unavailable

CONFIG, SOURCE, PUBLISHED, PLUGIN, BUILD = 2, 3, 4, 5, 7  # the exit codes the README documents


def fresh(tmp: Path, fmt: str = "jpg") -> Path:
    """A valid 300x200 image in 64-pixel tiles (5x4 base tiles), nothing built yet."""
    return make_image_dir(tmp, 300, 200, 64, fmt=fmt)[0]


def published(tmp: Path, fmt: str = "jpg") -> Path:
    """The same image with v0 published, and an empty v1/ for a case to fill."""
    image_dir = fresh(tmp, fmt)
    build_pyramid(image_dir, options=BuildOptions(jobs=1))
    (image_dir / "v1").mkdir()
    return image_dir


def jpeg(width: int = 64, height: int = 64, seed: int = 3) -> bytes:
    return codec.encode(synthetic_image(width, height, seed), "jpg", 85)


def encoded(pixels, ext: str) -> bytes:
    ok, buffer = codec.cv().imencode(ext, pixels)
    assert ok
    return buffer.tobytes()


def cut_scan(data: bytes) -> bytes:
    """Half the compressed data gone, the end-of-image marker kept: libjpeg only warns, OpenCV returns pixels."""
    scan = data.index(b"\xff\xda")
    return data[: scan + (len(data) - scan) // 2] + b"\xff\xd9"


def garbage_scan(data: bytes) -> bytes:
    """Restart markers where the compressed data should be: again a warning, not an error, in libjpeg."""
    start = data.index(b"\xff\xda") + 40
    return data[:start] + b"\xff\xd0" * 100 + data[start + 200 :]


def cmyk_header(data: bytes) -> bytes:
    """A JPEG whose frame header declares four components, as CMYK files do."""
    sof = data.index(b"\xff\xc0")
    return data[: sof + 9] + bytes([4]) + data[sof + 10 :]


# -- Setups: each returns (command-line arguments, the folder whose state must not change) ----------


def spec_text(text: str | None):
    def setup(tmp):
        image_dir = fresh(tmp)
        path = image_dir / "pyramid.json"
        path.unlink() if text is None else path.write_text(text)
        return ["pyramid", str(image_dir)], tmp

    return setup


def v1_file(name: str, data: Callable[[], bytes] | None = None, fmt: str = "jpg"):
    """Published v0, and ``v1/NAME`` holding ``data`` (a good tile by default)."""

    def setup(tmp):
        image_dir = published(tmp, fmt)
        (image_dir / "v1" / name).write_bytes(data() if data else jpeg())
        return ["pyramid", str(image_dir)], tmp

    return setup


def v1_png(pixels: Callable[[], np.ndarray], name: str = "1_1.png"):
    return v1_file(name, lambda: encoded(pixels(), ".png"), fmt="png")


def v1_link(target: Callable[[Path], Path], absolute: bool):
    def setup(tmp):
        image_dir = published(tmp)
        outside = target(tmp)
        outside.parent.mkdir(parents=True, exist_ok=True)
        outside.write_bytes(jpeg())
        link = image_dir / "v1" / "0_0.jpg"
        link.symlink_to(outside if absolute else os.path.relpath(outside, link.parent))
        return ["pyramid", str(image_dir)], tmp

    return setup


def linked_version_folder(tmp):
    image_dir = published(tmp)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "0_0.jpg").write_bytes(jpeg())
    (image_dir / "v1").rmdir()
    (image_dir / "v1").symlink_to("../elsewhere")
    return ["pyramid", str(image_dir)], tmp


def v0_missing_tile(tmp):
    image_dir = fresh(tmp)
    (image_dir / "v0" / "2_1.jpg").unlink()
    return ["pyramid", str(image_dir)], tmp


def huge_but_valid(tmp):
    image_dir = fresh(tmp)
    (image_dir / "pyramid.json").write_text('{"width": 16777216, "height": 16777216, "tile_size": 256, "overlap": 0}')
    return ["pyramid", str(image_dir)], tmp


def tiles_cut_at_60(tmp):
    """pyramid.json says 64 but the tiles were cut at 60: the same 5x4 count, the wrong sizes."""
    image_dir = fresh(tmp)
    shutil.rmtree(image_dir / "v0")
    (image_dir / "v0").mkdir()
    pixels = synthetic_image(300, 200)
    for col in range(5):
        for row in range(4):
            tile = pixels[row * 60 : row * 60 + 60, col * 60 : col * 60 + 60]
            (image_dir / "v0" / f"{col}_{row}.jpg").write_bytes(codec.encode(tile, "jpg", 85))
    return ["pyramid", str(image_dir)], tmp


def version_gap(tmp):
    image_dir = fresh(tmp)
    (image_dir / "v2").mkdir()
    (image_dir / "v2" / "0_0.jpg").write_bytes(jpeg())
    return ["pyramid", str(image_dir)], tmp


def edit_published(change: Callable[[Path], None]):
    def setup(tmp):
        image_dir = published(tmp)
        (image_dir / "v1").rmdir()
        change(image_dir)
        return ["pyramid", str(image_dir)], tmp

    return setup


def replace_file(path: Path, data: bytes) -> None:
    """Write a new file and rename it over the old one, as most editors and exporters do."""
    path.with_name("new.tmp").write_bytes(data)
    os.replace(path.with_name("new.tmp"), path)


def options(*args: str):
    def setup(tmp):
        image_dir = published(tmp)
        (image_dir / "v1" / "0_0.jpg").write_bytes(jpeg())
        return ["pyramid", str(image_dir), *args], tmp

    return setup


def dest_is_a_file(tmp):
    image_dir = fresh(tmp)
    (tmp / "out").write_text("not a folder")
    return ["pyramid", str(image_dir), "--dest", str(tmp / "out")], tmp


def site(toml: str, build_first: bool):
    """A site with one image (and a stand-in OpenSeadragon); ``toml`` goes on top of its dzbuild.toml."""

    def setup(tmp):
        from sites import make_site

        root = make_site(tmp, images=("harbour",))
        if build_first:
            assert dzbuild("build", str(root)).returncode == 0
        config = root / "dzbuild.toml"
        config.write_text(toml + config.read_text())
        return ["build", str(root)], tmp

    return setup


def site_with(files: dict[str, str] | None = None, images=("harbour",), build_first=False, then=None, quiet=False):
    """A site whose folder holds ``files`` (relative path: text) and ``images``; ``then(root)`` changes it last.

    ``quiet``: an error found only after the tile work, so only the image folders stay untouched.
    """

    def setup(tmp):
        from sites import make_site

        root = make_site(tmp, files=files, images=images)
        if build_first:
            assert dzbuild("build", str(root)).returncode == 0
        if then is not None:
            then(root)
        if quiet:
            return ["build", str(root), "--progress", "quiet"], root / images[0]
        return ["build", str(root)], tmp

    return setup


def image_folder(name: bytes):
    """A site whose one image folder has the raw (perhaps not UTF-8) name ``name``."""

    def rename(root: Path) -> None:
        os.rename(bytes(root / "harbour"), bytes(root) + b"/" + name)

    return site_with(then=rename)


def spec_bytes(make: Callable[[Path], None]):
    """A valid image whose pyramid.json is replaced by ``make(path)``."""

    def setup(tmp):
        image_dir = fresh(tmp)
        (image_dir / "pyramid.json").unlink()
        make(image_dir / "pyramid.json")
        return ["pyramid", str(image_dir)], tmp

    return setup


def damaged_state(name: str, text: str, *command: str):
    """A published image whose state file ``name`` (in dest/.dzbuild) now holds ``text``."""

    def setup(tmp):
        image_dir = published(tmp)
        (image_dir / "v1").rmdir()
        (image_dir / "dest" / ".dzbuild" / name).write_text(text)
        return [*(command or ["pyramid"]), str(image_dir), *(["--remove", "v0"] if command == ("vacuum",) else [])], tmp

    return setup


def image_args(*args: str):
    """``dzbuild ARGS`` where IMAGE stands for a published image folder (v0 and v1)."""

    def setup(tmp):
        image_dir = published(tmp)
        (image_dir / "v1" / "0_0.jpg").write_bytes(jpeg())
        build_pyramid(image_dir, options=BuildOptions(jobs=1))
        return [a.replace("IMAGE", str(image_dir)) for a in args], tmp

    return setup


def collection_json(text: str):
    return site_with({"maps/collection.json": text}, images=("maps/harbour",))


DEEP = "[" * 100_000


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable
    code: int
    words: str  # in the message
    names: str  # the file the message must name (a path ending)


CASES = [
    Case("pyramid.json missing", spec_text(None), CONFIG, "missing", "pyramid.json"),
    Case("pyramid.json empty", spec_text(""), CONFIG, "is empty", "pyramid.json"),
    Case("pyramid.json invalid JSON", spec_text('{"width": 300,'), CONFIG, "invalid JSON", "pyramid.json"),
    Case("unquoted keys, as in the seed", spec_text("{width: 300, height: 200, tile_size: 64, overlap: 0}"),
         CONFIG, 'keys must be quoted: "width"', "pyramid.json"),
    Case("not an object", spec_text("[300, 200]"), CONFIG, "must be a JSON object", "pyramid.json"),
    Case("negative width", spec_text('{"width": -300, "height": 200, "tile_size": 64, "overlap": 0}'),
         CONFIG, "'width' must be between 1 and", "pyramid.json"),
    Case("zero tile size", spec_text('{"width": 300, "height": 200, "tile_size": 0, "overlap": 0}'),
         CONFIG, "'tile_size' must be between 1 and", "pyramid.json"),
    Case("huge height", spec_text('{"width": 300, "height": 1000000000, "tile_size": 64, "overlap": 0}'),
         CONFIG, "'height' must be between 1 and 16777216", "pyramid.json"),
    Case("width as a string", spec_text('{"width": "300", "height": 200, "tile_size": 64, "overlap": 0}'),
         CONFIG, "'width' must be an integer", "pyramid.json"),
    Case("misspelled key", spec_text('{"width": 300, "height": 200, "tilesize": 64, "overlap": 0}'),
         CONFIG, "unknown key 'tilesize'", "pyramid.json"),
    Case("huge but valid size, v0 far from complete", huge_but_valid, SOURCE, "tiles are missing", "v0"),
    Case("tile_size does not match the tiles", tiles_cut_at_60, SOURCE, "is 60x60 pixels but the grid expects 64x64",
         ".jpg"),
    Case("a missing tile in v0", v0_missing_tile, SOURCE, "1 of 20 tiles are missing, the first is 2_1.jpg", "v0"),
    Case("a tile outside the grid", v1_file("9_1.jpg"), SOURCE, "outside the 5x4 grid", "v1/9_1.jpg"),
    Case("row and column swapped", v1_file("1_4.jpg"), SOURCE, "(row and column swapped?)", "v1/1_4.jpg"),
    Case("a tile of the wrong pixel size", v1_file("1_1.jpg", lambda: jpeg(50, 64)), SOURCE,
         "is 50x64 pixels but the grid expects 64x64", "v1/1_1.jpg"),
    Case("an edge tile of the wrong size", v1_file("4_3.jpg", lambda: jpeg(64, 64)), SOURCE,
         "is 64x64 pixels but the grid expects 44x8", "v1/4_3.jpg"),
    Case("a truncated JPEG", v1_file("1_1.jpg", lambda: jpeg()[:1500]), SOURCE, "truncated JPEG", "v1/1_1.jpg"),
    Case("a JPEG cut short that still ends properly", v1_file("1_1.jpg", lambda: cut_scan(jpeg())), SOURCE,
         "is corrupt (libjpeg: Corrupt JPEG data", "v1/1_1.jpg"),
    Case("a JPEG with garbage in its data", v1_file("1_1.jpg", lambda: garbage_scan(jpeg())), SOURCE,
         "is corrupt (libjpeg: Corrupt JPEG data", "v1/1_1.jpg"),
    Case("not an image at all", v1_file("1_1.jpg", lambda: b"GIF89a" + bytes(100)), SOURCE,
         "not a JPEG, PNG or WebP file", "v1/1_1.jpg"),
    Case("an empty tile file", v1_file("1_1.jpg", lambda: b""), SOURCE, "not a JPEG", "v1/1_1.jpg"),
    Case("a PNG named .jpg", v1_file("1_1.jpg", lambda: encoded(synthetic_image(64, 64), ".png")), SOURCE,
         "is a PNG file named .jpg", "v1/1_1.jpg"),
    Case("a CMYK JPEG", v1_file("1_1.jpg", lambda: cmyk_header(jpeg())), SOURCE, "has CMYK; refused", "v1/1_1.jpg"),
    Case("a 16-bit PNG", v1_png(lambda: synthetic_image(64, 64).astype(np.uint16) * 257), SOURCE,
         "is 16-bit; refused", "v1/1_1.png"),
    Case("a PNG with alpha", v1_png(lambda: np.dstack([synthetic_image(64, 64), np.full((64, 64), 255, np.uint8)])),
         SOURCE, "has an alpha channel; refused", "v1/1_1.png"),
    Case("a .png tile in a jpg pyramid", v1_file("1_1.png", lambda: encoded(synthetic_image(64, 64), ".png")),
         SOURCE, "tile format is jpg (pyramid.json) but this file is .png", "v1/1_1.png"),
    Case("a gap in versions", version_gap, SOURCE, "v1/ is missing but v2/ exists", "img300x200t64o0jpgs0"),
    Case("an empty new version", v1_file(".hidden"), SOURCE, "holds no tiles", "v1"),
    Case("a name with ..", v1_file("0_0..jpg"), SOURCE, "not a tile name", "v1/0_0..jpg"),
    Case("a name with a space", v1_file("0_0 copy.jpg"), SOURCE, "not a tile name", "v1/0_0 copy.jpg"),
    Case("a name with a newline", v1_file("0_\n0.jpg"), SOURCE, "not a tile name", "v1/0_\\n0.jpg"),
    Case("a name with a leading zero", v1_file("01_0.jpg"), SOURCE, "not a tile name", "v1/01_0.jpg"),
    Case("a name in full-width digits", v1_file("\uff11_0.jpg"), SOURCE, "not a tile name", "v1/\uff11_0.jpg"),
    Case("a negative index", v1_file("-1_0.jpg"), SOURCE, "not a tile name", "v1/-1_0.jpg"),
    Case("a folder named like a tile", lambda tmp: _folder_tile(tmp), SOURCE, "is not a regular file", "v1/1_1.jpg"),
    Case("a symlink to an absolute path outside", v1_link(lambda tmp: tmp / "outside" / "x.jpg", True), SOURCE,
         "outside the image folder", "v1/0_0.jpg"),
    Case("a relative symlink outside", v1_link(lambda tmp: tmp / "outside" / "x.jpg", False), SOURCE,
         "outside the image folder", "v1/0_0.jpg"),
    Case("a version folder linked from outside", linked_version_folder, SOURCE, "outside the image folder", "/v1"),
    Case("a published tile edited", edit_published(lambda d: replace_file(d / "v0" / "0_0.jpg", jpeg(seed=9))),
         PUBLISHED, "was modified in v0, which is published", "v0/0_0.jpg"),
    Case("a tile added to a published version", edit_published(lambda d: (d / "v0" / "0_0 (2).jpg").write_bytes(b"")),
         PUBLISHED, "was added to v0, which is published", "v0/0_0 (2).jpg"),
    Case("a tile removed from a published version", edit_published(lambda d: (d / "v0" / "1_1.jpg").unlink()),
         PUBLISHED, "was removed from v0, which is published", "v0/1_1.jpg"),
    Case("quality changed after publishing", edit_published(lambda d: (d / "pyramid.json").write_text(
        '{"width": 300, "height": 200, "tile_size": 64, "overlap": 0, "quality": 90}')),
         PUBLISHED, "'quality' changed from 85 to 90 after v0 was published", "pyramid.json"),
    Case("another resampler after publishing", options("--resampler", "area"), PUBLISHED,
         "published versions use the 'dct' resampler, not 'area'", "img300x200t64o0jpgs0"),
    Case("--jobs 0", options("--jobs", "0"), CONFIG, "must be at least 1, got 0", "--jobs"),  # an option, no file
    Case("an unknown storage", options("--storage", "ftp"), CONFIG, "no storage named 'ftp' is installed",
         "(installed: copy, hardlink, symlink)"),  # an option, no file: the message names what there is
    Case("dest is a file", dest_is_a_file, CONFIG, "is a file: the output must be a folder", "out"),
    Case("a misspelled site configuration key", site('outptu = "public"\n', build_first=False), CONFIG,
         "unknown key 'outptu'", "dzbuild.toml"),
    Case("a collection naming a missing image",
         site('[[collections]]\nname = "c"\nimages = ["harbour", "nope"]\n', build_first=True),
         CONFIG, "'nope' matches no image folder", "dzbuild.toml"),
    # Issue 15: sources and state read defensively, output never written into the sources
    Case("a key given twice in pyramid.json",
         spec_text('{"width": 300, "height": 200, "tile_size": 64, "overlap": 0, "width": 300}'),
         CONFIG, "key 'width' is given twice", "pyramid.json"),
    Case("pyramid.json nested 100,000 deep", spec_text(DEEP), CONFIG, "nested too deeply", "pyramid.json"),
    Case("a 5,000-digit number in pyramid.json",
         spec_text('{"width": 1' + "0" * 5000 + ', "height": 200, "tile_size": 64, "overlap": 0}'),
         CONFIG, "more than 4300 digits", "pyramid.json"),
    Case("pyramid.json is a FIFO", spec_bytes(lambda path: os.mkfifo(path)), CONFIG, "not a regular file",
         "pyramid.json"),
    Case("pyramid.json links to /dev/zero", spec_bytes(lambda path: path.symlink_to("/dev/zero")), CONFIG,
         "not a regular file", "pyramid.json"),
    Case("an empty record", damaged_state("v0.json", ""), BUILD, "is damaged", ".dzbuild/v0.json"),
    Case("a record that is {}", damaged_state("v0.json", "{}"), BUILD, "is damaged", ".dzbuild/v0.json"),
    Case("a record that is []", damaged_state("v0.json", "[]", "vacuum"), BUILD, "is damaged", ".dzbuild/v0.json"),
    Case("a garbage vacuum journal", damaged_state("vacuum.json", "garbage"), BUILD,
         "is not the journal of a vacuum", ".dzbuild/vacuum.json"),
    Case("--remove v0..v<5000 digits>", image_args("vacuum", "IMAGE", "--remove", "v0..v" + "9" * 5000), CONFIG,
         "is not a version or range", "dest"),
    Case("--dest inside a source version", image_args("pyramid", "IMAGE", "--dest", "IMAGE/v0"), CONFIG,
         "one of its source versions", "/v0"),
    Case("--dest is the image folder", image_args("pyramid", "IMAGE", "--dest", "IMAGE"), CONFIG,
         "cannot be the output of", "img300x200t64o0jpgs0"),
    Case("output is an image folder", site('output = "harbour"\n', build_first=False), CONFIG,
         "'output' is inside the image folder", "dzbuild.toml"),
    Case("cache in a source version", site('cache = "harbour/v0"\n', build_first=False), CONFIG,
         "'cache' is inside the image folder", "dzbuild.toml"),
    Case("headers_file is a pyramid.json", site('headers_file = "harbour/pyramid.json"\n', build_first=True),
         CONFIG, "'headers_file' is inside the image folder", "dzbuild.toml"),
    Case("headers_file and redirects_file the same",
         site('headers_file = "_site/x"\nredirects_file = "_site/x"\n', build_first=False),
         CONFIG, "must be two files", "dzbuild.toml"),
    Case("base_url with a newline", site('base_url = "/zoom/\\n/x"\n', build_first=False), CONFIG,
         "'base_url' must be a URL path", "dzbuild.toml"),
    Case("base_url with a space", site('base_url = "https://example.org/a b/"\n', build_first=False), CONFIG,
         "'base_url' must be a URL path", "dzbuild.toml"),
    Case("base_url with another scheme", site('base_url = "javascript:alert(1)//"\n', build_first=False), CONFIG,
         "'base_url' must be a URL path", "dzbuild.toml"),
    Case("base_url with a port out of range", site('base_url = "https://example.org:70000/zoom/"\n', False), CONFIG,
         "'base_url' has the port '70000', which is not a number from 1 to 65535", "dzbuild.toml"),
    Case("base_url with an empty host label", site('base_url = "https://example..org/zoom/"\n', False), CONFIG,
         "'base_url' has an empty or invalid host name", "dzbuild.toml"),
    Case("base_url with no host", site('base_url = "https://:8080/zoom/"\n', False), CONFIG,
         "'base_url' has an empty or invalid host name", "dzbuild.toml"),
    Case("data_file is a source tile", site('data_file = "harbour/v0/0_0.jpg"\n', build_first=True), CONFIG,
         "'data_file' is inside the image folder", "dzbuild.toml"),
    Case("data_file is dzbuild.toml", site('data_file = "dzbuild.toml"\n', build_first=True), CONFIG,
         "'data_file' must not be the site's configuration", "dzbuild.toml"),
    Case("data_file is a page of the output", site('data_file = "_site/harbour/index.html"\n', build_first=True),
         CONFIG, "'data_file' must not be a file dzbuild writes in the output", "dzbuild.toml"),
    Case("data_file is a published descriptor", site('data_file = "_site/harbour/dzi/v0/dzi.xml"\n', True), CONFIG,
         "'data_file' is inside harbour/dzi/, which dzbuild publishes for the image 'harbour'", "dzbuild.toml"),
    Case("data_file is in the cache", site('data_file = ".dzbuild/site.json"\n', build_first=True), CONFIG,
         "'data_file' must be a file outside the cache", "dzbuild.toml"),
    Case("data_file links to a pyramid.json", lambda tmp: _data_file_link(tmp), CONFIG,
         "'data_file' is inside the image folder", "dzbuild.toml"),
    Case("data_file is a FIFO", lambda tmp: _data_file_fifo(tmp), CONFIG, "'data_file' must be a regular file",
         "dzbuild.toml"),
    Case("a templates folder that does not exist", site('templates = "theme"\n', build_first=False), CONFIG,
         "'templates' is not a folder", "dzbuild.toml"),
    Case("a template with a syntax error",
         site_with({"dzbuild.toml": 'templates = "theme"\n', "theme/index.html": "{% if %}"}),
         CONFIG, "line 1: template error", "theme/index.html"),
    Case("a template extending a missing one",
         site_with({"dzbuild.toml": 'templates = "theme"\n', "theme/image.html": '{% extends "nope.html" %}'}),
         CONFIG, "template 'nope.html' not found", "theme"),
    Case("a template that fails while rendering (found after the tile work)",
         site_with({"dzbuild.toml": 'templates = "theme"\n', "theme/index.html": "{{ 1 // 0 }}"}, quiet=True),
         CONFIG, "template error: ZeroDivisionError", "theme/index.html"),
    Case("a _headers file that is not UTF-8",
         site_with(build_first=True, then=lambda root: (root / "_site" / "_headers").write_bytes(b"/x\n  X: \xff\n")),
         CONFIG, "not UTF-8", "_site/_headers"),
    Case("an image folder name that is not UTF-8", image_folder(b"caf\xe9"), CONFIG, "name is not UTF-8", "caf"),
    Case("an image folder named _headers", site_with(images=("_headers",)), CONFIG,
         "named like a file dzbuild writes", "site/_headers"),
    Case("an image folder named index.html", site_with(images=("g/index.html",)), CONFIG,
         "named like a file dzbuild writes", "g/index.html"),
    Case("an image folder under _dzbuild/", site_with(images=("_dzbuild/x",)), CONFIG,
         "named like a file dzbuild writes", "_dzbuild/x"),
    Case("a key given twice in collection.json", collection_json('{"name": "m", "name": "n"}'), CONFIG,
         "key 'name' is given twice", "maps/collection.json"),
    Case("data after a JPEG's end marker", v1_file("1_1.jpg", lambda: jpeg() + b"appended" * 25), SOURCE,
         "has 200 bytes after its JPEG end-of-image marker", "v1/1_1.jpg"),
    Case("a tile that is a symbolic link loop", lambda tmp: _link_loop(tmp), SOURCE,
         "is a symbolic link that leads nowhere (Too many levels of symbolic links)", "v1/1_1.jpg"),
    Case("collection.json nested 100,000 deep", collection_json(DEEP), CONFIG, "nested too deeply",
         "maps/collection.json"),
    # Options and folders once blamed on the wrong file, or left to hang
    Case("a storage name one letter off", options("--storage", "hardlinks"), CONFIG,
         "no storage named 'hardlinks' is installed", "did you mean 'hardlink'?"),
    Case("a Dask address whose port is not a number", options("--executor", "dask://127.0.0.1:abc"), CONFIG,
         "the port must be a number from 1 to 65535", "--executor"),
    Case("ingest --format gif into a new folder", lambda tmp: _ingest(tmp, "--format", "gif"), CONFIG,
         "--format must be one of jpg, png, webp (or jpeg), got 'gif'", "--format"),
    Case("a broken pyramid.json behind a good image",
         site_with(images=("a-good", "z-broken"), then=lambda root: (root / "z-broken" / "pyramid.json").write_text(
             '{"width": 300, "height": 200, "tile_size": 0, "overlap": 0}')),
         CONFIG, "'tile_size' must be between 1 and", "z-broken/pyramid.json"),
    Case("init hugo where layouts is a file", lambda tmp: _init_over_a_file(tmp), CONFIG,
         "is not a folder, but dzbuild init puts layouts/shortcodes/deepzoom.html in it", "project/layouts"),
    Case("a full disk while copying OpenSeadragon", lambda tmp: _full_disk_for_the_viewer(tmp), BUILD,
         "could not copy OpenSeadragon into the output: No space left on device",
         "/_site/_dzbuild/openseadragon/0.0.0-test/images/button"),
]


def _data_file_link(tmp):
    """A data file path that is a symbolic link into an image folder: the link's target is what would be written."""
    args, watched = site('data_file = "data/dzbuild.json"\n', build_first=True)(tmp)
    (Path(args[1]) / "data").mkdir()
    (Path(args[1]) / "data" / "dzbuild.json").symlink_to("../harbour/pyramid.json")
    return args, watched


def _data_file_fifo(tmp):
    """A FIFO where the data file goes: writing it would block, replacing it would lose the pipe."""
    args, watched = site('data_file = "data/pipe"\n', build_first=False)(tmp)
    (Path(args[1]) / "data").mkdir()
    os.mkfifo(Path(args[1]) / "data" / "pipe")
    return args, watched


def _ingest(tmp, *args: str):
    (tmp / "picture.png").write_bytes(encoded(synthetic_image(300, 200), ".png"))
    return ["ingest", str(tmp / "picture.png"), str(tmp / "img"), *args], tmp


def _init_over_a_file(tmp):
    (tmp / "project").mkdir()
    (tmp / "project" / "layouts").write_text("not a folder\n")
    return ["init", "hugo", str(tmp / "project")], tmp


def _full_disk_for_the_viewer(tmp):
    """A site on a 1 MiB tmpfs whose OpenSeadragon (from elsewhere) is 1.6 MB; the tmpfs goes after the case."""
    from sites import fake_openseadragon, make_site

    disk = tmp / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    viewer = fake_openseadragon(tmp / "npm")
    for number in range(200):
        (viewer / "images" / f"button{number:03}.png").write_bytes(os.urandom(8000))
    site = make_site(disk, images=("harbour",), config=f'[viewer]\nopenseadragon_dir = "{viewer.as_posix()}"\n')
    return ["build", str(site)], site / "harbour"


@pytest.fixture(autouse=True)
def _no_mount_outlives_its_case(tmp_path):
    """A case may mount a small tmpfs below its folder (a full disk); it is unmounted after the case."""
    yield
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in mounts:
        if mount.startswith(f"{tmp_path}/"):
            subprocess.run(["umount", "-l", mount], check=True)


def _link_loop(tmp):
    image_dir = published(tmp)
    (image_dir / "v1" / "1_1.jpg").symlink_to("1_1.jpg")
    return ["pyramid", str(image_dir)], tmp


def _folder_tile(tmp):
    image_dir = published(tmp)
    (image_dir / "v1" / "1_1.jpg").mkdir()
    return ["pyramid", str(image_dir)], tmp


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def state_of(root: Path) -> dict[str, tuple]:
    """Every path below ``root``: link target, or inode, size, mtime and a hash of the bytes."""
    result = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            if os.path.islink(path):
                result[path] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                result[path] = ("dir",)
            elif not stat.S_ISREG(st.st_mode):  # a FIFO: never read it
                result[path] = ("special", st.st_ino, st.st_mode)
            else:
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                result[path] = ("file", st.st_ino, st.st_size, st.st_mtime_ns, digest)
    return result


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_in_one_line_and_changes_nothing(tmp_path, case):
    args, watched = case.setup(tmp_path)
    before = state_of(watched)
    done = dzbuild(*args)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == case.code, output
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dzbuild: error: "), done.stderr
    assert case.words in lines[0] and case.names in lines[0], lines[0]
    assert state_of(watched) == before


def test_the_corpus_has_as_many_rows_as_the_guarantees_say():
    from documented import stated_number

    assert len(CASES) == stated_number("guarantees.md", r"`tests/test_bad_inputs.py` \((\d+) cases")
    assert len(HOSTILE_NAMES) == stated_number("guarantees.md", r"A site with (\d+) hostile image folder names")


def test_a_greyscale_tile_is_accepted_and_converted_above(tmp_path):
    """Policy: greyscale tiles are served as they are; the levels above are colour."""
    image_dir = published(tmp_path)
    grey = codec.cv().cvtColor(synthetic_image(64, 64), codec.cv().COLOR_BGR2GRAY)
    (image_dir / "v1" / "1_1.jpg").write_bytes(encoded(grey, ".jpg"))
    done = dzbuild("pyramid", str(image_dir))
    assert done.returncode == 0, done.stderr
    dest = image_dir / "dest"
    assert check_dest(dest, deep=True) == []
    from dzbuild.io.imageinfo import sniff

    files = dest / "dzi" / "v1" / "dzi_files"
    assert sniff((files / "9" / "1_1.jpg").read_bytes()).channels == 1
    assert sniff((files / "8" / "0_0.jpg").read_bytes()).channels == 3


# -- The site step: hostile image folder names -----------------------------------------------------

HOSTILE_NAMES = [
    "javascript:alert(document.domain)+",
    "a b",
    "ünïcödé",
    "😀 emoji",
    "-rf",
    "--help",
    "x" * 250,
    "%2e%2e",
    "<img src=x onerror=alert(1)>",
    "\"'&amp;",
    "q?x=1#frag",
    "back\\slash",
    "data:text,x",
]


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """One site holding an image under every hostile name, built through the command line."""
    from sites import make_site

    site = make_site(tmp_path_factory.mktemp("hostile"), images=HOSTILE_NAMES)
    done = dzbuild("build", str(site), "--jobs", "1")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return site / "_site"


class _Links(HTMLParser):
    """Every tag and every href/src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def page_links(page: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    urls = [attrs[key] for _, attrs in parser.tags for key in ("href", "src") if key in attrs]
    return parser.tags, urls


def target_of(page: Path, url: str, output: Path) -> Path:
    """The output file a relative URL on ``page`` reaches, as a browser resolves it."""
    path = urlsplit(url).path
    assert not urlsplit(url).scheme and not urlsplit(url).netloc, url
    target = (page.parent / unquote(path)).resolve()
    assert target == output.resolve() or output.resolve() in target.parents, url
    return target / "index.html" if path.endswith("/") or target.is_dir() else target


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[name[:30] for name in HOSTILE_NAMES])
def test_a_hostile_folder_name_is_only_ever_a_path(hostile_site, name):
    """Links are relative (./ or ../), percent-encoded and reach real files; names are never markup."""
    pages = [hostile_site / "index.html", hostile_site / name / "index.html"]
    for page in pages:
        tags, urls = page_links(page)
        assert not [attrs for _, attrs in tags if any(key.startswith("on") for key in attrs)], page
        assert sum(1 for tag, _ in tags if tag == "img") <= len(HOSTILE_NAMES), page  # no tag made of a name
        for url in urls:
            if url == "data:,":  # the favicon placeholder of base.html
                continue
            assert url.startswith(("./", "../")), (page, url)
            assert target_of(page, url, hostile_site).is_file(), (page, url)
    index_urls = page_links(hostile_site / "index.html")[1]
    assert f"./{quote(name, safe=URL_SAFE)}/" in index_urls
    headers = (hostile_site / "_headers").read_text(encoding="utf-8")
    paths = [line for line in headers.splitlines() if line and not line.startswith((" ", "#"))]
    assert all(" " not in path and "\t" not in path for path in paths)
    immutable = f"/{quote(name, safe=URL_SAFE.replace(':', ''))}/dzi/v"  # the rule of its published versions
    assert sum(1 for path in paths if path.startswith(immutable)) == 1, paths

"""The scripts a viewer page needs to open packs: npm's ``pmtiles`` reader and dzbuild's tile source.

``pmtiles`` is installed from the npm registry like OpenSeadragon (``npm ci`` here, pinned in
``package.json``; the wheel carries a copy) and never committed. It is copied to
``OUTPUT/_dzbuild/pmtiles/{version}/pmtiles.js``, a versioned, immutable folder; the tile source
(``_dzbuild/assets/dzbuild-pack.js``) comes with the theme's assets. Pages load both only when
the site's viewer format packs its versions.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError
from ..io.files import write_if_changed
from ..plugins import registry
from ..pyramid.formats import packs

PACKAGE = Path("node_modules") / "pmtiles"
SCRIPT = Path("dist") / "pmtiles.js"  # the browser build: one file, global ``pmtiles``
BUNDLED = Path(__file__).resolve().parents[1] / "_vendor" / "pmtiles"  # setup.py puts it here in a wheel
TILE_SOURCE = "_dzbuild/assets/dzbuild-pack.js"


def find_pmtiles(root: Path) -> Path | None:
    """The npm package folder: the site's, the current folder's or a source checkout's, else the wheel's."""
    for start in (root, Path.cwd(), Path(__file__).resolve().parents[2]):
        for folder in (start, *start.parents):
            if (folder / PACKAGE / SCRIPT).is_file():
                return folder / PACKAGE
    return BUNDLED if (BUNDLED / SCRIPT).is_file() else None


def install_pack_reader(config, assets_dir: str) -> tuple[tuple[str, ...], list[str]]:
    """Copy pmtiles into the output when the viewer opens packs: (scripts for the pages, paths written)."""
    if not packs(registry().get("format", config.viewer.format)):
        return (), []
    package = find_pmtiles(config.root)
    if package is None:
        raise ConfigError(
            "the viewer opens packs but npm's pmtiles reader was not found: run `npm install pmtiles` in the"
            " site folder (or `npm ci` in a dzbuild checkout)",
            config.file or config.root,
        )
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    rel = f"{assets_dir}/pmtiles/{version}"
    write_if_changed(config.output / rel / "pmtiles.js", (package / SCRIPT).read_bytes())
    write_if_changed(config.output / rel / "package.json", (package / "package.json").read_bytes())  # its licence
    return (f"{rel}/pmtiles.js", TILE_SOURCE), [rel]

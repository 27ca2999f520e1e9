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
from .pinned import pinned_package

SCRIPT = Path("dist") / "pmtiles.js"  # the browser build: one file, global ``pmtiles``
TILE_SOURCE = "_dzbuild/assets/dzbuild-pack.js"


def install_pack_reader(config, assets_dir: str) -> tuple[tuple[str, ...], list[str]]:
    """Copy pmtiles into the output when the viewer opens packs: (scripts for the pages, paths written)."""
    if not packs(registry().get("format", config.viewer.format)):
        return (), []
    package = pinned_package("pmtiles", SCRIPT)
    if package is None:
        raise ConfigError(
            "the viewer opens packs but npm's pmtiles reader was not found: this dzbuild has no bundled copy"
            " (a source checkout without `npm ci`?); run `npm ci` in the dzbuild checkout",
            config.file or config.root,
        )
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    rel = f"{assets_dir}/pmtiles/{version}"
    write_if_changed(config.output / rel / "pmtiles.js", (package / SCRIPT).read_bytes())
    write_if_changed(config.output / rel / "package.json", (package / "package.json").read_bytes())  # its licence
    return (f"{rel}/pmtiles.js", TILE_SOURCE), [rel]

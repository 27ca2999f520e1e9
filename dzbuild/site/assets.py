"""The viewer's static files: OpenSeadragon (a local copy from npm, or a CDN) and the theme's assets.

OpenSeadragon is installed from the npm registry (``npm ci`` in this repository, or ``npm install
openseadragon`` in a site) and never committed. It is copied to ``OUTPUT/_dzbuild/openseadragon/
{version}/``: a versioned, immutable folder, so pages work offline and cache well.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..io.files import PARTIAL_MARK, write_if_changed
from .config import SiteConfig
from .packreader import install_pack_reader

ASSETS_DIR = "_dzbuild"  # the output folder dzbuild owns for its own files
OSD_PACKAGE = Path("node_modules") / "openseadragon"
OSD_BUILD = Path("build") / "openseadragon"
OSD_LICENSE = "LICENSE.txt"  # BSD-3: its notice travels with every copy
# setup.py copies the pinned npm package here when the wheel or sdist is built (never committed).
BUNDLED_OSD = Path(__file__).resolve().parents[1] / "_vendor" / "openseadragon"
# The version pinned in package.json, and the hash of its openseadragon.min.js, for CDN mode.
OSD_CDN_VERSION = "6.1.1"
OSD_CDN_URL = f"https://cdn.jsdelivr.net/npm/openseadragon@{OSD_CDN_VERSION}/build/openseadragon/openseadragon.min.js"
OSD_CDN_INTEGRITY = "sha384-KKly+4vqqBHitr2XfNKWa3+0asIVpzYs2HijkM/zz0X6rgnyLuQEVERX9HqkM5/P"


@dataclass(frozen=True)
class ViewerAssets:
    """How a page loads OpenSeadragon; URLs are relative to the output root unless absolute."""

    script: str
    images: str  # OpenSeadragon's prefixUrl (its button images)
    integrity: str | None = None
    version: str = ""
    scripts: tuple[str, ...] = ()  # loaded after OpenSeadragon: a viewer format's own (the pack reader)

    @property
    def external(self) -> bool:
        return "://" in self.script


def find_openseadragon(config: SiteConfig) -> Path | None:
    """The ``build/openseadragon`` folder to copy: the configured one, else an npm install (searched
    like Node resolves packages: the site's, the current folder's, a source checkout's), else the
    copy bundled in the wheel."""
    if config.viewer.openseadragon_dir:
        return config.viewer.openseadragon_dir
    starts = [config.root, Path.cwd(), Path(__file__).resolve().parents[2]]  # the last: a source checkout
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / OSD_PACKAGE / OSD_BUILD
            if (candidate / "openseadragon.min.js").is_file():
                return candidate
    bundled = BUNDLED_OSD / OSD_BUILD
    return bundled if (bundled / "openseadragon.min.js").is_file() else None


def install_viewer(config: SiteConfig) -> tuple[ViewerAssets, list[str]]:
    """Copy OpenSeadragon into the output (or point at the CDN); return it and the paths written."""
    viewer = config.viewer
    scripts, written = install_pack_reader(config, ASSETS_DIR)
    if viewer.openseadragon == "cdn":
        url = viewer.cdn_url or OSD_CDN_URL
        integrity = viewer.cdn_integrity or OSD_CDN_INTEGRITY
        return ViewerAssets(url, url.rsplit("/", 1)[0] + "/images/", integrity, OSD_CDN_VERSION, scripts), written
    folder = find_openseadragon(config)
    where = config.file or config.root
    if folder is None or not (folder / "openseadragon.min.js").is_file():
        raise ConfigError(
            "OpenSeadragon not found: this dzbuild has no bundled copy (a source checkout without `npm ci`?);"
            ' run `npm install openseadragon` in the site folder, set viewer.openseadragon_dir, or set'
            ' viewer.openseadragon = "cdn"',
            where,
        )
    version = _package_version(folder)
    rel = f"{ASSETS_DIR}/openseadragon/{version}"
    target = config.output / rel
    if not target.is_dir():
        _copy_atomically(folder, target)
    return ViewerAssets(f"{rel}/openseadragon.min.js", f"{rel}/images/", None, version, scripts), [rel, *written]


def _package_version(build_dir: Path) -> str:
    try:
        data = json.loads((build_dir.parents[1] / "package.json").read_text(encoding="utf-8"))
        return str(data["version"])
    except (OSError, ValueError, KeyError, IndexError):
        return "local"


def _copy_atomically(folder: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("*.map", "openseadragon.js"))
    licence = folder.parents[1] / OSD_LICENSE
    if licence.is_file():
        shutil.copyfile(licence, tmp / OSD_LICENSE)
    os.rename(tmp, target)


def copy_theme_assets(template_dirs: list[Path], output: Path) -> list[str]:
    """Files under ``assets/`` of the template folders go to ``OUTPUT/_dzbuild/assets/``; overrides win."""
    chosen: dict[str, Path] = {}
    for base in reversed(template_dirs):  # built-in first, so the site's own folder overrides it
        root = base / "assets"
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    chosen[path.relative_to(root).as_posix()] = path
    written = []
    for rel, path in chosen.items():
        write_if_changed(output / ASSETS_DIR / "assets" / rel, path.read_bytes())
        written.append(f"{ASSETS_DIR}/assets/{rel}")
    return written

"""The viewer's static files: OpenSeadragon (a local copy, or a CDN) and the theme's assets.

OpenSeadragon is the copy a site configures (``viewer.openseadragon_dir``), else the one dzbuild
carries at the version ``package.json`` pins: bundled in the wheel, or in a source checkout the
one ``npm ci`` installed. Never a ``node_modules`` found near the site or the current folder: a
site inside any JavaScript project would silently ship another version. It is copied to
``OUTPUT/_dzbuild/openseadragon/{version}/``: a versioned, immutable folder, so pages work
offline and cache well. The CDN mode loads the same version, checked by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import BuildError, ConfigError
from ..io.files import partial_path, remove_path, write_if_changed
from .config import SiteConfig
from .packreader import install_pack_reader
from .pinned import pinned_package

ASSETS_DIR = "_dzbuild"  # the output folder dzbuild owns for its own files
OSD_BUILD = Path("build") / "openseadragon"
OSD_SCRIPT = "openseadragon.min.js"
OSD_LICENSE = "LICENSE.txt"  # BSD-3: its notice travels with every copy
OSD_CDN_URL = "https://cdn.jsdelivr.net/npm/openseadragon@{version}/build/openseadragon/" + OSD_SCRIPT


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


def pinned_openseadragon() -> Path | None:
    """The ``build/openseadragon`` folder of the copy dzbuild carries, or None (a checkout without ``npm ci``)."""
    package = pinned_package("openseadragon", OSD_BUILD / OSD_SCRIPT)
    return package / OSD_BUILD if package is not None else None


def find_openseadragon(config: SiteConfig) -> Path | None:
    """The ``build/openseadragon`` folder to copy: the configured one, else the pinned one."""
    return config.viewer.openseadragon_dir or pinned_openseadragon()


def cdn_viewer(config: SiteConfig) -> ViewerAssets:
    """OpenSeadragon from a CDN: the configured URL, else the pinned version, checked by its hash."""
    viewer, pinned = config.viewer, pinned_openseadragon()
    if pinned is None and not viewer.cdn_url:
        raise ConfigError(
            'viewer.openseadragon = "cdn" needs the pinned OpenSeadragon to name its version and hash: this dzbuild'
            " has none (a source checkout without `npm ci`?); run `npm ci`, or set viewer.cdn_url",
            config.file or config.root,
        )
    version = _package_version(pinned) if pinned else ""
    url = viewer.cdn_url or OSD_CDN_URL.format(version=version)
    integrity = viewer.cdn_integrity or (_integrity(pinned / OSD_SCRIPT) if pinned else None)
    return ViewerAssets(url, url.rsplit("/", 1)[0] + "/images/", integrity, version)


def _integrity(script: Path) -> str:
    """The Subresource Integrity value of a file: what a browser checks the CDN's copy against."""
    return "sha384-" + base64.b64encode(hashlib.sha384(script.read_bytes()).digest()).decode()


def install_viewer(config: SiteConfig) -> tuple[ViewerAssets, list[str]]:
    """Copy OpenSeadragon into the output (or point at the CDN); return it and the paths written."""
    viewer = config.viewer
    scripts, written = install_pack_reader(config, ASSETS_DIR)
    if viewer.openseadragon == "cdn":
        return replace(cdn_viewer(config), scripts=scripts), written
    folder = find_openseadragon(config)
    where = config.file or config.root
    if folder is None or not (folder / OSD_SCRIPT).is_file():
        raise ConfigError(
            "OpenSeadragon not found: this dzbuild has no bundled copy (a source checkout without `npm ci`?);"
            ' run `npm ci` in the dzbuild checkout, set viewer.openseadragon_dir, or set'
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
    """Copy OpenSeadragon under a temporary name, then rename it into place.

    File by file, so the first failure (a full disk) stops the copy with one line naming the file
    being written, and whatever was copied goes at once: the output never holds half a viewer.
    """
    tmp = partial_path(target)
    remove_path(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        for source, rel in _viewer_files(folder):
            _copy_file(source, tmp / rel, target / rel)
        os.rename(tmp, target)
    except BaseException:
        remove_path(tmp)
        raise


def _viewer_files(folder: Path) -> list[tuple[Path, str]]:
    """OpenSeadragon's files to publish, with their paths in the copy: no source maps, no unminified copy."""
    files = []
    for parent, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".map") and name != "openseadragon.js":
                path = Path(parent, name)
                files.append((path, path.relative_to(folder).as_posix()))
    licence = folder.parents[1] / OSD_LICENSE
    return files + [(licence, OSD_LICENSE)] if licence.is_file() else files


def _copy_file(source: Path, tmp: Path, final: Path) -> None:
    """Copy one file to ``tmp``; a failure names ``final`` (what the output would have held) or the source."""
    try:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, tmp)
    except OSError as exc:
        unreadable = exc.filename == str(source) and not exc.filename2
        what = "cannot read OpenSeadragon's file" if unreadable else "could not copy OpenSeadragon into the output"
        named = source if unreadable else final
        raise BuildError(f"{what}: {exc.strerror or exc}; nothing of it was left", named) from None


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

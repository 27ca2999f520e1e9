"""Build hook: the wheel and the sdist carry OpenSeadragon, so ``pip install dzbuild`` needs no Node.

OpenSeadragon comes from the npm registry at the version ``package-lock.json`` pins (``npm ci``)
and is never committed. The wheel gets ``dzbuild/_vendor/openseadragon/`` (``package.json``, the
BSD-3 ``LICENSE.txt`` and ``build/openseadragon/`` without source maps), laid out like npm's
folder so the site build reads it the same way. Where it is taken from, first found wins:

1. ``dzbuild/_vendor/openseadragon`` in the source tree (an unpacked sdist carries it);
2. ``node_modules/openseadragon`` (after ``npm ci``);
3. ``npm ci`` run here, when npm is installed.

Without any of them the build fails with one clear message. Metadata lives in pyproject.toml.
npm's ``pmtiles`` reader (the pack viewer's) travels the same way, to ``dzbuild/_vendor/pmtiles/``
(``package.json``, which states its BSD-3 licence, and the one-file browser build ``dist/pmtiles.js``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
VENDORED = Path("dzbuild") / "_vendor" / "openseadragon"  # inside the package, as the wheel holds it
KEPT = ("package.json", "LICENSE.txt", "build/openseadragon/openseadragon.min.js", "build/openseadragon/images")


PMTILES_VENDORED = Path("dzbuild") / "_vendor" / "pmtiles"
PMTILES_KEPT = ("package.json", "dist/pmtiles.js")


class OpenSeadragonMissing(SystemExit):
    pass


def openseadragon_source(here: Path = HERE) -> Path:
    """The folder to copy OpenSeadragon from, running ``npm ci`` when only npm is there."""
    npm_package = here / "node_modules" / "openseadragon"
    for candidate in (here / VENDORED, npm_package):
        if (candidate / KEPT[2]).is_file():
            return candidate
    npm = shutil.which("npm")
    if npm is None:
        raise OpenSeadragonMissing(
            "dzbuild: building the package needs OpenSeadragon from the npm registry: install Node.js/npm"
            " (the build runs `npm ci`), or run `npm ci` in the repository first"
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=here, check=True)
    if not (npm_package / KEPT[2]).is_file():
        raise OpenSeadragonMissing(f"dzbuild: `npm ci` did not install {npm_package / KEPT[2]}")
    return npm_package


def copy_pmtiles(target: Path) -> None:
    """Copy npm's pmtiles browser build into ``target`` (after ``openseadragon_source`` ran ``npm ci`` if needed)."""
    for source in (HERE / PMTILES_VENDORED, HERE / "node_modules" / "pmtiles"):
        if (source / PMTILES_KEPT[1]).is_file():
            break
    else:
        raise OpenSeadragonMissing("dzbuild: building the package needs npm's pmtiles: run `npm ci` first")
    if target.resolve() == source.resolve():
        return
    shutil.rmtree(target, ignore_errors=True)
    for rel in PMTILES_KEPT:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target / rel)


def copy_openseadragon(target: Path) -> None:
    """Copy the kept files (no source maps, no unminified script) into ``target``, and pmtiles beside it."""
    source = openseadragon_source()
    copy_pmtiles(target.parent / "pmtiles")
    if target.resolve() == source.resolve():
        return
    shutil.rmtree(target, ignore_errors=True)
    for rel in KEPT:
        path, out = source / rel, target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, out)
        else:
            shutil.copy2(path, out)


class BuildWithOpenSeadragon(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads node_modules/ of the checkout
            copy_openseadragon(Path(self.build_lib) / VENDORED)


class SdistWithOpenSeadragon(sdist):
    def make_release_tree(self, base_dir, files) -> None:
        super().make_release_tree(base_dir, files)
        copy_openseadragon(Path(base_dir) / VENDORED)


if __name__ == "__main__":  # as setuptools runs it (a test imports the helpers above without building)
    setup(cmdclass={"build_py": BuildWithOpenSeadragon, "sdist": SdistWithOpenSeadragon})

"""The npm packages dzbuild pins in package.json (OpenSeadragon, the pmtiles reader), found where dzbuild keeps them.

A wheel or sdist carries each under ``dzbuild/_vendor/`` (setup.py copies it there; never
committed); a source checkout has the copy ``npm ci`` installed from package-lock.json. Never a
``node_modules`` near the site or the current folder: a site inside any JavaScript project would
silently ship whatever version that project holds.
"""

from __future__ import annotations

from pathlib import Path

BUNDLED = Path(__file__).resolve().parents[1] / "_vendor"
CHECKOUT = Path(__file__).resolve().parents[2] / "node_modules"


def pinned_package(name: str, entry: Path | str) -> Path | None:
    """The folder of npm package ``name`` at the pinned version, or None when no copy holds ``entry``."""
    for package in (BUNDLED / name, CHECKOUT / name):
        if (package / entry).is_file():
            return package
    return None

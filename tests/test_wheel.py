"""A wheel built from this repository carries OpenSeadragon: a site builds where no ``node_modules`` exists.

The wheel is built as pip builds it (an isolated build running ``setup.py``), installed into a
fresh virtual environment without its dependencies (they come from this environment through a
``.pth`` file, so nothing is downloaded), and run in a temporary folder outside the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from sites import PINNED as OSD_VERSION
from sites import add_image

REPO = Path(__file__).resolve().parents[1]
BUNDLED = "dzbuild/_vendor/openseadragon"


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (REPO / "node_modules" / "openseadragon").is_dir():
        pytest.skip("needs `npm ci` in the repository (the wheel build copies OpenSeadragon from node_modules)")
    out = tmp_path_factory.mktemp("wheels")
    run(sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "--quiet", "--wheel-dir", out)
    return next(out.glob("dzbuild-*.whl"))


def test_the_wheel_carries_the_pinned_openseadragon_and_its_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        script = archive.read(f"{BUNDLED}/build/openseadragon/openseadragon.min.js")
        licence = archive.read(f"{BUNDLED}/LICENSE.txt").decode()
    npm_build = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon"
    assert script == (npm_build / "openseadragon.min.js").read_bytes()
    assert script.startswith(f"//! openseadragon {OSD_VERSION}".encode())
    assert "Redistribution and use in source and binary forms" in licence
    assert f"{BUNDLED}/build/openseadragon/images/home_rest.png" in names
    assert not [n for n in names if n.endswith(".map") or n.endswith("/openseadragon.js")]


def test_the_wheel_carries_the_pinned_pmtiles_reader_for_pack_viewers(wheel):
    with zipfile.ZipFile(wheel) as archive:
        script = archive.read("dzbuild/_vendor/pmtiles/dist/pmtiles.js")
        package = json.loads(archive.read("dzbuild/_vendor/pmtiles/package.json"))
    assert script == (REPO / "node_modules" / "pmtiles" / "dist" / "pmtiles.js").read_bytes()
    pinned = json.loads((REPO / "package.json").read_text())["dependencies"]["pmtiles"]
    assert (package["version"], package["license"]) == (pinned, "BSD-3-Clause")


def test_a_site_builds_from_the_installed_wheel_with_no_node_modules_anywhere(wheel, tmp_path):
    assert not any((folder / "node_modules").exists() for folder in (tmp_path, *tmp_path.parents))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel)
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # numpy, OpenCV, Jinja...

    site = tmp_path / "site"
    add_image(site, "photo")
    where = run(python, "-c", "import dzbuild; print(dzbuild.__file__)", cwd=site).stdout.strip()
    assert Path(where).is_relative_to(venv), "the test must run the installed wheel, not the checkout"
    run(python, "-m", "dzbuild", "build", "-j", "1", "--progress", "quiet", cwd=site)

    copied = site / "_site" / "_dzbuild" / "openseadragon" / OSD_VERSION
    bundled = purelib / BUNDLED / "build" / "openseadragon" / "openseadragon.min.js"
    assert (copied / "openseadragon.min.js").read_bytes() == bundled.read_bytes()
    assert (copied / "LICENSE.txt").is_file() and (copied / "images" / "home_rest.png").is_file()
    page = (site / "_site" / "photo" / "index.html").read_text()
    assert f"_dzbuild/openseadragon/{OSD_VERSION}/openseadragon.min.js" in page


def test_without_node_modules_or_npm_the_package_build_stops_with_one_line(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("dzbuild_setup", REPO / "setup.py")
    setup_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_py)  # not __main__: defines the build helpers, builds nothing
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(SystemExit) as stopped:
        setup_py.openseadragon_source(tmp_path)
    message = str(stopped.value)
    assert message.startswith("dzbuild: building the package needs OpenSeadragon from the npm registry")
    assert "\n" not in message
    vendored = tmp_path / "dzbuild" / "_vendor" / "openseadragon" / "build" / "openseadragon"
    vendored.mkdir(parents=True)
    (vendored / "openseadragon.min.js").write_text("//! openseadragon")
    assert setup_py.openseadragon_source(tmp_path) == tmp_path / "dzbuild" / "_vendor" / "openseadragon"


def test_requires_python_states_the_python_the_suite_runs_on():
    """CI runs this suite on one Python; the package claims no older one that nothing tests."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={sys.version_info.major}.{sys.version_info.minor}"
    assert not [dep for dep in project["dependencies"] if "python_version" in dep]

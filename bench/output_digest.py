"""Hash every file dzbuild writes for a fixed set of sources, to show a refactor changed no output.

    python bench/output_digest.py SOURCES OUT > digest.txt

The first run writes ``SOURCES`` (the example site's tiles and a 3000x2000 image with two
versions); later runs reuse it, so two checkouts of dzbuild build the same input. Each run builds
into the fresh folder ``OUT``: the example site with ``dzbuild build``, and the image with
``dzbuild pyramid`` in three formats (DZI, IIIF, Zoomify; overlap 1). It prints one line per
output file, ``sha256  path``, sorted (but for the files in ``UNSTABLE``); ``diff`` two digests to see what changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Files that record the sources' identities (inode, mtime) differ between any two builds.
UNSTABLE = {"source-cache.json", ".dzbuild.lock"}
IMAGE_FORMATS = ("--format", "iiif", "--format", "zoomify", "--base-url", "https://example.org/zoom/")


def write_sources(sources: Path) -> None:
    """The example site as ``generate.py`` makes it, and a three-format test image with a v1."""
    from dzbuild.io import codec
    from dzbuild.testing import make_image_folder

    sys.path.insert(0, str(REPO / "example_site"))
    import generate

    site = sources / "site"
    shutil.copytree(REPO / "example_site", site, ignore=shutil.ignore_patterns("_site", ".dzbuild*", "v[0-9]*"))
    generate.generate(site)
    image = make_image_folder(sources / "image", 3000, 2000, overlap=1, seed=3)
    changed = image / "v1"
    changed.mkdir()
    for name in ("0_0.jpg", "5_3.jpg"):
        pixels = codec.cv().imdecode(codec.np().frombuffer((image / "v0" / name).read_bytes(), "uint8"), 1)
        (changed / name).write_bytes(codec.cv().imencode(".jpg", 255 - pixels)[1].tobytes())


def build(sources: Path, out: Path) -> None:
    """Build both inputs into ``out`` with the ``dzbuild`` on PATH."""
    shutil.copytree(sources, out / "src", symlinks=True)
    run = {"check": True, "stdout": subprocess.DEVNULL}
    subprocess.run(["dzbuild", "build", str(out / "src" / "site"), "--jobs", "2"], **run)
    subprocess.run(["dzbuild", "pyramid", str(out / "src" / "image"), "--dest", str(out / "image"), *IMAGE_FORMATS],
                   **run)


def digest(folder: Path):
    """``(sha256, relative path)`` of every file below ``folder``, links followed."""
    for root, _dirs, files in os.walk(folder):
        for name in sorted(set(files) - UNSTABLE):
            path = Path(root) / name
            yield hashlib.sha256(path.read_bytes()).hexdigest(), path.relative_to(folder).as_posix()


def main(argv: list[str]) -> None:
    sources, out = Path(argv[0]), Path(argv[1])
    if not sources.exists():
        write_sources(sources)
    if out.exists():
        sys.exit(f"{out}: exists; give a fresh folder")
    build(sources, out)
    site_output = out / "src" / "site" / "_site"
    lines = [(h, f"site/{p}") for h, p in digest(site_output)] + [(h, f"image/{p}") for h, p in digest(out / "image")]
    for sha, rel in sorted(lines, key=lambda line: line[1]):
        print(f"{sha}  {rel}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Start-up: a rerun with nothing new against ``dzbuild --version``, alternately, on a small image.

    python bench/startup.py                 # 21 alternating pairs; exit 1 if the rerun exceeds 1.5x

The full benchmark measures the same ratio on its large image (target "3 no-op"); this one takes a
few seconds, so it can guard start-up after any change to what the command imports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import measure  # noqa: E402
from dzbuild.pyramid.spec import PyramidSpec  # noqa: E402
from dzbuild.pyramid.tiling import write_spec, write_tiles  # noqa: E402
from dzbuild.testing import synthetic_image  # noqa: E402

LIMIT = 1.5  # the no-op rerun may cost at most this many times ``dzbuild --version``


def small_image(root: Path) -> Path:
    """A 1024 x 768 picture cut into 256-pixel tiles: ``pyramid.json`` and ``v0/``."""
    spec = PyramidSpec(1024, 768, 256)
    image_dir = root / "image"
    write_spec(image_dir, spec)
    write_tiles(image_dir / "v0", synthetic_image(spec.width, spec.height, seed=1), spec)
    return image_dir


def measure_startup(pairs: int) -> tuple[float, float, float, float]:
    """Median wall seconds of ``dzbuild --version`` and of a no-op ``dzbuild pyramid`` rerun, then their
    median CPU seconds (user + system), which a busy machine disturbs less."""
    measure.compile_dzbuild()
    with tempfile.TemporaryDirectory() as tmp:
        image_dir = small_image(Path(tmp))
        rerun = ["pyramid", str(image_dir), "--dest", str(Path(tmp) / "dest"), "--json"]
        measure.dzbuild(rerun)  # the first build; every later run has nothing new
        version, noop = [], []
        for _ in range(pairs):
            version.append(measure.dzbuild(["--version"]))
            noop.append(measure.dzbuild(rerun))
    wall = [statistics.median(run.wall for run in runs) for runs in (version, noop)]
    cpu = [statistics.median(run.user + run.sys for run in runs) for runs in (version, noop)]
    return (*wall, *cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time a no-op rerun against dzbuild --version.")
    parser.add_argument("--pairs", type=int, default=21, help="alternating runs of each (default 21)")
    args = parser.parse_args(argv)
    version, noop, version_cpu, noop_cpu = measure_startup(args.pairs)
    ratio = noop / version
    print(f"dzbuild --version {version * 1000:.1f} ms; no-op rerun {noop * 1000:.1f} ms = {ratio:.2f} x (<= {LIMIT})")
    cpu_ratio = noop_cpu / version_cpu
    print(f"CPU: --version {version_cpu * 1000:.1f} ms; no-op rerun {noop_cpu * 1000:.1f} ms = {cpu_ratio:.2f} x")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())

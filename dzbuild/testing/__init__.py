"""Deterministic, natural-looking test pictures, shared by the tests, the benchmark and the example site.

Smooth multi-scale structure with edges and texture compresses and resamples like a photo;
flat colour or white noise would flatter or punish the codecs unrealistically.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from .. import plugins
from ..io import codec
from ..pyramid.spec import PyramidSpec
from ..pyramid.tiling import write_spec, write_tiles


def unavailable(reason: str):
    """Skip a test whose tool (Chromium, OpenSeadragon, a mountable disk) this machine lacks.

    Under ``CI=true`` the repository's root ``conftest.py`` turns every skip into a failure (the
    tool must be there), so this is ``pytest.skip`` under a name the tests share.
    """
    import pytest  # only a test that needs a missing tool asks: the benchmarks use this module without pytest

    pytest.skip(reason)


def synthetic_image(width: int, height: int, seed: int = 0):
    """A ``height x width x 3`` uint8 picture: layered smooth noise, a few discs and fine texture."""
    cv2, np = codec.cv(), codec.np()
    rng = np.random.default_rng(seed)
    acc = np.zeros((height, width, 3), np.float32)
    for octave in range(1, 7):
        cells = 2**octave
        small = rng.random((cells + 1, cells + 1, 3)).astype(np.float32)
        acc += cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) / (1.6**octave)
    acc -= acc.min()
    acc *= 200.0 / max(float(acc.max()), 1e-6)
    canvas = acc.astype(np.uint8)
    for _ in range(12):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.integers(1, max(2, min(width, height) // 6)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.circle(canvas, centre, radius, colour, thickness=max(1, radius // 8), lineType=cv2.LINE_AA)
    texture = rng.integers(-12, 13, (height, width, 1), dtype=np.int16)
    return np.clip(canvas.astype(np.int16) + texture, 0, 255).astype(np.uint8)


def make_image_folder(folder, width: int, height: int, tile_size: int = 256, *, fmt: str = "jpg", overlap: int = 0,
                      seed: int = 0):
    """An image folder with ``pyramid.json`` and a complete ``v0/`` of a synthetic picture.

    For dzbuild's tests and for plugin authors' tests alike; returns the folder.
    """
    folder = Path(folder)
    spec = PyramidSpec(width, height, tile_size, overlap=overlap, format=fmt)
    write_spec(folder, spec)
    write_tiles(folder / "v0", synthetic_image(width, height, seed=seed), spec)
    return folder


@contextmanager
def plugin_registered(plugin, name: str):
    """Register ``plugin`` with dzbuild for the duration of a block, as its entry point would.

    For tests of dzbuild and of third-party plugins: a plugin that is already registered is left
    as it is, and the registry is rebuilt on the way in and out.
    """
    manager = plugins.get_plugin_manager()
    added = not manager.is_registered(plugin)
    if added:
        manager.register(plugin, name=name)
    plugins.reset()
    try:
        yield plugin
    finally:
        if added:
            manager.unregister(plugin)
        plugins.reset()

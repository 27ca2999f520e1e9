"""Which formats a build publishes, and in which order: the one rule the CLI, sites and the Python API share.

The first format is the *home* of computed tiles: its version folders hold their files, and
every other format links to them. A parent is made from its children as they lie in the home,
so the home must give a path to every tile of level 1 and finer. Formats that leave tiles out
(IIIF skips requests a finer tile answers, Zoomify has no tiers below one tile) can only link,
and formats that pack a version into a few containers (``PacksVersions``) read the home's tiles:
named alone, they get Deep Zoom as their home (``with_tile_store``), which a site keeps in its
cache and does not publish.
"""

from __future__ import annotations

from ..api import PacksVersions
from ..errors import ConfigError
from ..grid import Grid
from ..plugins import capability, registry

DEEP_ZOOM = "dzi"  # the default home, and the format collections (.dzc) reference their members in
DEFAULT_FORMATS = (DEEP_ZOOM,)

# Image sizes (width, height, tile size) on which a home must give every tile a path: typical
# odd sizes, a 513 px square (where IIIF drops a corner request) and a one-pixel-high strip.
PROBE_GRIDS = ((1497, 515, 256), (513, 513, 256), (257, 255, 64), (1000, 1, 254))


def resolve_formats(names) -> tuple[str, ...]:
    """``names`` without repeats, a format that places every tile first; ConfigError if none does
    (unless every one of them packs: they are what a site publishes, see ``with_tile_store``).

    The order asked for is kept except that the first named format able to hold every tile moves
    to the front, so ``["iiif", "dzi"]`` publishes the same files as ``["dzi", "iiif"]``.
    """
    names = tuple(dict.fromkeys(names))
    if not names:
        raise ConfigError("name at least one output format")
    if names[0] == DEEP_ZOOM:  # the default home: no plugin needs loading to know it qualifies
        return names

    reg = registry()
    homes = [name for name in names if places_every_tile(reg.get("format", name))]
    if not homes and all(packs(reg.get("format", name)) for name in names):
        return names  # packs only: ``with_tile_store`` gives the build its home
    if not homes:
        listed = ", ".join(repr(name) for name in names)
        raise ConfigError(
            f"none of the formats {listed} gives a path to every tile, so none can hold the computed tiles"
            f" that formats link to; add {DEEP_ZOOM!r}"
        )
    return (homes[0], *(name for name in names if name != homes[0]))


def with_tile_store(names: tuple[str, ...]) -> tuple[str, ...]:
    """The formats a build makes for resolved ``names``: packs alone get Deep Zoom first, as their tile store."""
    if names[0] == DEEP_ZOOM:
        return names
    return names if not packs(registry().get("format", names[0])) else (DEEP_ZOOM, *names)


def packs(fmt) -> bool:
    """Whether ``fmt`` publishes a version as a few containers packed from the home's tiles."""
    return capability(fmt, PacksVersions) is not None


def places_every_tile(fmt) -> bool:
    """Whether ``fmt`` gives a path to every tile of level 1 and finer on each probe grid."""
    for width, height, tile_size in PROBE_GRIDS:
        grid = Grid(width, height, tile_size)
        for level in grid.levels[1:]:
            if any(fmt.tile_path(grid, tile, "jpg") is None for tile in grid.tiles(level)):
                return False
    return True


def deep_zoom():
    """The Deep Zoom format object, whose descriptor and tiles collections point at."""
    return registry().get("format", DEEP_ZOOM)

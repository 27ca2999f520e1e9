"""Every hook dzbuild calls, in one place.

Each hook is a registration callback in the style of ``llm``: dzbuild passes a ``register``
function and a plugin calls it once per thing it provides. dzbuild's own resamplers, storages
and formats are registered through these same hooks (see ``dzbuild/default_plugins``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("dzbuild")
hookimpl = pluggy.HookimplMarker("dzbuild")

Register = Callable[[object], None]


@dataclass(frozen=True)
class VersionContext:
    """What a format needs to know about the version whose descriptors it writes."""

    version: int
    url: str | None = None  # public URL of this format's version folder, when the site has a base URL


# -- Pixels ---------------------------------------------------------------------------------


@hookspec
def register_resamplers(register: Register) -> None:
    """Register resamplers that turn the encoded 2x2 children of a tile into the parent's pixels.

    :param register: call ``register(resampler)`` with an object that has a unique ``name`` and a
        ``parent(children, size, tile_size)`` method: ``children`` maps ``(dx, dy)`` to the child's
        encoded bytes, ``size`` is the parent's ``(width, height)``; it returns a ``uint8`` BGR array.
        The method must be deterministic: the same children always give the same pixels.
    """


# -- Files ----------------------------------------------------------------------------------


@hookspec
def register_storages(register: Register) -> None:
    """Register storages that place tiles at their output paths.

    :param register: call ``register(storage)`` with an object that has a unique ``name``, a
        ``write(path, data)`` method for computed tiles and a ``link(target, path)`` method that
        makes ``path`` serve the bytes of the existing physical file ``target``. An optional
        ``link_into(target_dir, dest_dir, names)`` does the same for many files that keep their
        names, which is most of every version; without it, ``link`` is called for each.
    """


# -- Output formats ---------------------------------------------------------------------------


@hookspec
def register_formats(register: Register) -> None:
    """Register output formats: where each tile of a version lives and which descriptor describes it.

    :param register: call ``register(output_format)`` with an object that has a unique ``name`` (the
        folder under ``dest/``), ``dirs(grid)`` (folders to create, relative to a version),
        ``tile_path(grid, tile, ext)`` (a tile's path relative to a version, or None for a tile the
        format does not use) and ``descriptors(spec, grid, context)`` returning
        ``{relative path: bytes}``, where ``context`` is a ``VersionContext``. An optional
        ``check(spec, base_url)`` raises ``ConfigError`` for a build the format cannot serve (e.g.
        no base URL for absolute links); it runs before anything is built or discarded. The first
        format of a build holds the computed tiles, so it must give every tile a path (dzbuild's
        CLI always puts ``dzi`` first).
    """

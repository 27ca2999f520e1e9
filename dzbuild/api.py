"""The plugin contract: everything a dzbuild plugin may import, and nothing else.

A plugin imports from ``dzbuild.api`` only. Every name here is stable within a major version
of dzbuild; every other module is internal and may change in any release. The protocols say
what each registration hook expects to receive; ``dzbuild`` checks registered objects against
them and refuses one that lacks a member, naming the plugin, the hook and the member.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, runtime_checkable

from .errors import BuildError, ConfigError, DzbuildError, PluginError, SourceError
from .grid import Grid, Size, Tile
from .hookspecs import VersionContext, hookimpl
from .pyramid.spec import PyramidSpec

__all__ = [
    "Batch",
    "BuildError",
    "ConfigError",
    "DzbuildError",
    "Executor",
    "ExecutorProvider",
    "Grid",
    "OutputFormat",
    "PluginError",
    "PyramidSpec",
    "Resampler",
    "Size",
    "SourceError",
    "Storage",
    "Tile",
    "VersionContext",
    "hookimpl",
]


@runtime_checkable
class Resampler(Protocol):
    """Turns the encoded 2x2 children of a tile into the parent's pixels (``register_resamplers``)."""

    name: str

    def parent(self, children: dict[tuple[int, int], bytes], size: tuple[int, int], tile_size: int) -> Any:
        """Return the parent's ``uint8`` BGR pixels, ``size`` = (width, height); deterministic."""


@runtime_checkable
class Storage(Protocol):
    """Places every file dzbuild publishes (``register_storages``).

    ``write`` creates a file from bytes (a computed tile, a descriptor); ``link`` makes
    ``path`` serve the bytes of the existing file ``target`` (an unchanged tile, a version
    mirrored into a site's output). ``path`` never exists beforehand. An optional
    ``link_into(target_dir, dest_dir, names)`` links many files that keep their names at once.
    """

    name: str

    def write(self, path: str, data: bytes) -> None: ...

    def link(self, target: str, path: str) -> None: ...


@runtime_checkable
class OutputFormat(Protocol):
    """Where each tile of a version lives and which descriptor describes it (``register_formats``).

    ``name`` is the folder under ``dest/`` and beside each image in a site's output. ``descriptor``
    is the descriptor's path relative to a version folder, the file a viewer opens. An optional
    ``check(spec, base_url)`` raises ``ConfigError`` for a build the format cannot serve; it runs
    before anything is built or discarded. An optional ``aliases(grid, ext)`` returns ``{tile: [path,
    ...]}``: more paths, relative to a version folder, linked to the same file as the tile's own
    (IIIF's ``full/max``); only tiles every version computes (the one-tile level) may have them.

    Optional too, a document beside the version folders listing every published version (the
    IIIF plugin's Presentation manifest): ``manifest`` (its file name) and ``manifest_document(spec,
    grid, versions, url, label)`` returning its bytes, where ``versions`` are ``VersionContext``s
    oldest first and ``url`` is the format folder's public URL; dzbuild rewrites it when versions
    are published, backfilled or vacuumed. For a site's collections, ``collection`` (a file name)
    and ``collection_document(url, label, members)``, ``members`` being (manifest URL, label) pairs.
    """

    name: str
    descriptor: str

    def dirs(self, grid: Grid) -> list[str]:
        """Folders to create, relative to a version folder."""

    def tile_path(self, grid: Grid, tile: Tile, ext: str) -> str | None:
        """A tile's path relative to a version folder, or None for a tile the format does not use."""

    def descriptors(self, spec: PyramidSpec, grid: Grid, context: VersionContext) -> dict[str, bytes]:
        """Every descriptor file of a version: ``{relative path: bytes}``."""

    def viewer_source(self, descriptor_url: str, spec: PyramidSpec) -> str | dict | None:
        """What OpenSeadragon's ``tileSources`` receives for a version, or None if it cannot open it."""


@runtime_checkable
class Batch(Protocol):
    """Tasks started together on an executor."""

    def results(self) -> list:
        """Wait for every task and return their answers in order; re-raise the first failure."""

    def cancel(self) -> None:
        """Stop every task not yet finished; return once none of them can still write a file."""


@runtime_checkable
class Executor(Protocol):
    """Runs work units (picklable ``fn(task)`` calls) for one build; a context manager.

    Optional members, for executors whose workers run on other machines: ``check_paths(read,
    write)`` raises ``BuildError`` when a worker cannot see those folders (called before any tile
    work); ``workers`` (None until started) is what ``--json`` reports; ``whole_images = True``
    asks a site build to send each small image as one task that builds it whole on a worker.
    """

    jobs: int

    def prewarm(self, workers: int) -> None:
        """Start ``workers`` workers now, so their start-up overlaps the planning."""

    def start(self, fn: Callable, tasks: Iterable) -> Batch: ...

    def run(self, fn: Callable, tasks: Iterable) -> list: ...

    def close(self, cancel: bool = False) -> None: ...

    def __enter__(self) -> "Executor": ...

    def __exit__(self, *exc) -> None: ...


@runtime_checkable
class ExecutorProvider(Protocol):
    """Opens executors of one kind (``register_executors``), chosen by ``--executor NAME[://ADDRESS]``."""

    name: str

    def open(self, jobs: int | None, address: str | None) -> Executor:
        """An executor with ``jobs`` workers (None: the provider's default), at ``address`` if given."""


def protocol_members(protocol: type) -> tuple[str, ...]:
    """The members a registered object must have to satisfy ``protocol``, in declaration order."""
    own = [name for name in vars(protocol) if not name.startswith("_")]
    own += [name for name in getattr(protocol, "__annotations__", {}) if name not in own]
    return tuple(name for name in own if name not in {"register"})


TemplateDir = Path  # what ``register_template_dirs`` registers

"""The plugin contract: everything a dzbuild plugin may import, and nothing else.

A plugin imports from ``dzbuild.api`` only. Every name here is stable within a major version
of ``API_VERSION``; every other module is internal and may change in any release.

Each registration hook receives objects of one *kind* (``Resampler``, ``Storage``,
``OutputFormat``, ``ExecutorProvider``); the protocols below list what each must have. What an
object may offer beyond that is a *capability*: a small protocol of its own (``HasManifest``,
``LinksInto``...), listed per kind in ``CAPABILITIES``. An object has a capability by having
its members; dzbuild checks every registered object once, when it is registered, and refuses one
that lacks a required member, or has part of a capability but not all of it, or has a method
that cannot be called, naming the plugin, the hook and the member.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, runtime_checkable

from .errors import BuildError, ConfigError, DzbuildError, PluginError, SourceError
from .grid import Grid, Size, Tile
from .hookspecs import VersionContext, hookimpl
from .io.codec import blank as blank_pixels
from .io.codec import decode as decode_tile
from .io.codec import decode_half as decode_tile_half
from .io.codec import halve
from .pyramid.spec import PyramidSpec
from .run.inline import InlineExecutor

BUILTIN_TEMPLATES: Path = Path(__file__).resolve().parent / "templates"
"""The folder of dzbuild's own page templates, searched after every plugin's (``register_template_dirs``)."""

API_VERSION = "1.1"
"""The contract's version, ``MAJOR.MINOR``. A plugin may state the version it was written for
as a module-level ``dzbuild_api = "1.0"``; dzbuild refuses it (exit code 5) unless the major
numbers match and the plugin's minor is at most this one's. A minor release only adds names."""

__all__ = [
    "API_VERSION",
    "BUILTIN_TEMPLATES",
    "Batch",
    "BuildError",
    "BuildsWholeImages",
    "CAPABILITIES",
    "ChecksBuilds",
    "ChecksPaths",
    "ConfigError",
    "DzbuildError",
    "Executor",
    "ExecutorProvider",
    "ForkPool",  # noqa: F822 (loaded on first use, see __getattr__)
    "Grid",
    "HasAliases",
    "HasCollectionDocument",
    "HasLabel",
    "HasManifest",
    "HasRenditions",
    "InlineExecutor",
    "LinksInto",
    "OutputFormat",
    "PacksVersions",
    "PluginError",
    "PyramidSpec",
    "ReportsWorkers",
    "Resampler",
    "Size",
    "SourceError",
    "Storage",
    "Tile",
    "VersionContext",
    "VersionTiles",
    "blank_pixels",
    "decode_tile",
    "decode_tile_half",
    "default_jobs",  # noqa: F822 (loaded on first use, see __getattr__)
    "halve",
    "hookimpl",
]


# -- Resamplers ---------------------------------------------------------------------------------


@runtime_checkable
class Resampler(Protocol):
    """Turns the encoded 2x2 children of a tile into the parent's pixels (``register_resamplers``).

    The same children must always give the same pixels: incremental builds rely on it, and a
    version keeps the resampler its image was first built with. ``decode_tile``,
    ``decode_tile_half``, ``halve`` and ``blank_pixels`` are dzbuild's own pixel helpers.
    """

    name: str

    def parent(self, children: dict[tuple[int, int], bytes], size: tuple[int, int], tile_size: int) -> Any:
        """Return the parent's ``uint8`` BGR pixels; ``children`` maps ``(dx, dy)`` to encoded bytes,
        ``size`` is the parent's (width, height)."""


# -- Storages -----------------------------------------------------------------------------------


@runtime_checkable
class Storage(Protocol):
    """Places every file dzbuild publishes (``register_storages``).

    ``write`` creates a file from bytes (a computed tile, a descriptor); ``link`` makes ``path``
    serve the bytes of the existing file ``target`` (an unchanged tile, a file mirrored from a
    site's cache into its output, a file ``dzbuild vacuum`` moves). ``path`` never exists
    beforehand and its folder does.
    """

    name: str

    def write(self, path: str, data: bytes) -> None:
        """Create ``path`` holding ``data``."""

    def link(self, target: str, path: str) -> None:
        """Make ``path`` serve the bytes of the existing file ``target``."""


@runtime_checkable
class LinksInto(Protocol):
    """A storage that links many files at once; without it, ``link`` is called for each."""

    def link_into(self, target_dir: str, dest_dir: str, names: list[str]) -> None:
        """Make each of ``names`` in ``dest_dir`` serve the file of that name in ``target_dir``
        (most of every version)."""


# -- Output formats -----------------------------------------------------------------------------


@runtime_checkable
class OutputFormat(Protocol):
    """Where each tile of a version lives and which descriptor describes it (``register_formats``).

    ``name`` is the folder under ``dest/`` and beside each image in a site's output; ``descriptor``
    is the path, relative to a version folder, of the file a viewer opens. The first format of a
    build holds the computed tiles, so it must give every tile a path (dzbuild puts ``dzi`` first).
    """

    name: str
    descriptor: str

    def dirs(self, grid: Grid) -> list[str]:
        """Folders to create, relative to a version folder."""

    def tile_path(self, grid: Grid, tile: Tile, ext: str) -> str | None:
        """A tile's path relative to a version folder, or None for a tile the format does not use."""

    def descriptors(self, spec: PyramidSpec, grid: Grid, context: VersionContext) -> dict[str, bytes]:
        """Every descriptor file of a version: ``{relative path: bytes}``; ``context.url`` is the
        version folder's public URL when the build has a base URL."""

    def viewer_source(self, descriptor_url: str, spec: PyramidSpec) -> str | dict | None:
        """What OpenSeadragon's ``tileSources`` receives for a version, or None if it cannot open it."""


@runtime_checkable
class ChecksBuilds(Protocol):
    """A format that can refuse a build it cannot serve (the IIIF plugin needs a base URL)."""

    def check(self, spec: PyramidSpec, base_url: str | None) -> None:
        """Raise ``ConfigError`` for a build this format cannot serve; runs before anything is built."""


@runtime_checkable
class HasAliases(Protocol):
    """A format that serves some tiles at a second path too (IIIF's ``full/max``)."""

    def aliases(self, grid: Grid, ext: str) -> dict[Tile, list[str]]:
        """``{tile: [path, ...]}``: more paths, relative to a version folder, linked to the tile's
        file; only tiles every version computes (the one-tile level) may have them."""


@runtime_checkable
class HasRenditions(Protocol):
    """A format that serves the whole image at sizes no pyramid level has (IIIF's ``full/max`` fitted
    within ``maxWidth``/``maxHeight``, a viewer's thumbnail): it names them, dzbuild makes their pixels.

    Each picture is the whole image, resized with area averaging from the coarsest pyramid level
    at least twice as large (or the image itself), encoded with the image's codec and quality, and
    written into every published version as a file of its own (a picture changes whenever any
    tile does), so an incremental build, a build from scratch and a backfill give the same bytes.
    """

    def renditions(self, grid: Grid, ext: str) -> dict[str, tuple[int, int]]:
        """``{path: (width, height)}``, relative to a version folder, each at most the image's size;
        paths of one size share one picture. A tile's path (or alias) is never one of them."""


@runtime_checkable
class HasLabel(Protocol):
    """A format whose name people write otherwise than in capitals ("Zoomify"; "IIIF image",
    which tells a version's ``info.json`` apart from the IIIF manifest): pages name its link so."""

    label: str


@runtime_checkable
class HasManifest(Protocol):
    """A format that keeps a document beside its version folders listing every published version
    (a IIIF Presentation manifest); dzbuild rewrites it when versions are published, backfilled
    or vacuumed, and never serves it as immutable."""

    manifest: str

    def manifest_document(
        self, spec: PyramidSpec, grid: Grid, versions: list[VersionContext], url: str, label: str
    ) -> bytes | None:
        """The document's bytes; ``versions`` oldest first, ``url`` the format folder's public URL."""


@runtime_checkable
class HasCollectionDocument(Protocol):
    """A format that lists a site collection's members (a IIIF Collection), written into
    ``COLLECTION/NAME/`` whenever its bytes change."""

    collection: str

    def collection_document(self, url: str, label: str, members: list[tuple[str, str]]) -> bytes:
        """The document's bytes; ``members`` are (manifest URL, label) pairs in the collection's order."""


@dataclass(frozen=True)
class VersionTiles:
    """The tiles one version computed, as a packing format receives them (``PacksVersions``)."""

    version: int
    tiles: dict[Tile, str]  # every tile this version computed (every tile for v0): the path of its published file
    previous: bytes | None  # this format's descriptor of the version before (None for v0), to find older tiles


@runtime_checkable
class PacksVersions(Protocol):
    """A format that publishes each version as a few container files instead of one file per tile.

    Its ``tile_path`` gives no tile a path, so it never holds the computed tiles: a build naming
    only such formats keeps Deep Zoom as its tile store (a site does not publish that). Once the
    home format's folder of a version is in place, dzbuild calls ``pack`` with the tiles that
    version computed, and writes each yielded file into the version folder being assembled, which
    becomes visible only whole; versions are packed oldest first, so ``previous`` always exists.
    """

    def pack(self, spec: PyramidSpec, grid: Grid, tiles: VersionTiles) -> Iterator[tuple[str, bytes]]:
        """Yield ``(path relative to the version folder, bytes)`` for every file of the version,
        its descriptor included; one at a time, so a large version never sits in memory whole."""


# -- Executors ----------------------------------------------------------------------------------


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

    ``ForkPool`` (the ``fork`` executor) and ``InlineExecutor`` are dzbuild's own.
    """

    jobs: int

    def prewarm(self, workers: int) -> None:
        """Start ``workers`` workers now, so their start-up overlaps the planning."""

    def start(self, fn: Callable, tasks: Iterable) -> Batch:
        """Start ``fn(task)`` for every task and return at once."""

    def run(self, fn: Callable, tasks: Iterable) -> list:
        """``start(fn, tasks).results()``."""

    def close(self, cancel: bool = False) -> None:
        """End the workers; with ``cancel``, stop their tasks first."""

    def __enter__(self) -> "Executor": ...

    def __exit__(self, *exc) -> None: ...


@runtime_checkable
class ChecksPaths(Protocol):
    """An executor whose workers run on other machines and may not see this one's folders."""

    def check_paths(self, read: list, write: list) -> None:
        """Raise ``BuildError`` when a worker cannot read or write those folders; called before any tile work."""


@runtime_checkable
class ReportsWorkers(Protocol):
    """An executor that knows how many workers it ran; ``--json`` reports ``workers`` instead of ``jobs``."""

    workers: int | None  # None: never started (no unit needed it)


@runtime_checkable
class BuildsWholeImages(Protocol):
    """An executor that asks a site build to send each small image as one task, built whole on a worker."""

    whole_images: bool


@runtime_checkable
class ExecutorProvider(Protocol):
    """Opens executors of one kind (``register_executors``), chosen by ``--executor NAME[://ADDRESS]``."""

    name: str

    def open(self, jobs: int | None, address: str | None) -> Executor:
        """An executor with ``jobs`` workers (None: the provider's default), at ``address`` if given."""


CAPABILITIES: dict[type, tuple[type, ...]] = {
    Resampler: (),
    Storage: (LinksInto,),
    OutputFormat: (
        ChecksBuilds, HasAliases, HasRenditions, HasLabel, HasManifest, HasCollectionDocument, PacksVersions
    ),
    ExecutorProvider: (),
    Executor: (ChecksPaths, ReportsWorkers, BuildsWholeImages),
}
"""The optional capabilities an object of each kind may have, beyond its protocol."""


def protocol_members(protocol: type) -> tuple[str, ...]:
    """The members an object must have to satisfy ``protocol``, in declaration order."""
    own = [name for name in vars(protocol) if not name.startswith("_")]
    own += [name for name in vars(protocol).get("__annotations__", {}) if name not in own]
    return tuple(own)


_EXECUTORS = {"ForkPool": "dzbuild.run.forkpool", "default_jobs": "dzbuild.run.forkpool"}


def __getattr__(name: str):
    """The fork pool, loaded on first use: its module loads the plugin registry, which checks every
    registered object against the protocols of this module (PEP 562)."""
    if name in _EXECUTORS:
        return getattr(importlib.import_module(_EXECUTORS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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

    :param register: call ``register(output_format)`` with an ``OutputFormat`` (see ``dzbuild.api``):
        a unique ``name`` (the folder under ``dest/``), a ``descriptor`` (the file a viewer opens,
        relative to a version), ``dirs(grid)`` (folders to create, relative to a version),
        ``tile_path(grid, tile, ext)`` (a tile's path relative to a version, or None for a tile the
        format does not use), ``descriptors(spec, grid, context)`` returning
        ``{relative path: bytes}``, where ``context`` is a ``VersionContext``, and
        ``viewer_source(descriptor_url, spec)`` (what OpenSeadragon opens, or None). An optional
        ``check(spec, base_url)`` raises ``ConfigError`` for a build the format cannot serve (e.g.
        no base URL for absolute links); it runs before anything is built or discarded. The first
        format of a build holds the computed tiles, so it must give every tile a path (dzbuild's
        CLI always puts ``dzi`` first).
    """


# -- Executors --------------------------------------------------------------------------------


@hookspec
def register_executors(register: Register) -> None:
    """Register executor providers that run a build's work units.

    :param register: call ``register(provider)`` with an ``ExecutorProvider`` (see ``dzbuild.api``):
        a unique ``name`` (what ``--executor NAME`` or ``NAME://ADDRESS`` selects) and an
        ``open(jobs, address)`` method returning an ``Executor``. dzbuild's own ``inline`` and
        ``fork`` executors are registered through this hook.
    """


# -- Sites ------------------------------------------------------------------------------------


@hookspec
def register_template_dirs(register: Register) -> None:
    """Register folders of Jinja templates for a site's pages.

    :param register: call ``register(path)`` with a folder; it is searched after the site's own
        ``templates`` folder and before dzbuild's built-in templates, so a plugin can add
        templates or override built-in ones while a site can still override the plugin's.
    """


@hookspec
def extra_template_vars(template: str, config) -> dict | None:
    """Return variables to add to the rendering of one page.

    :param template: the template's name, e.g. ``"image.html"``.
    :param config: the site's configuration (``SiteConfig``).
    :return: a dict merged into the template's variables, or None.
    """


@hookspec
def site_built(config, output, summary: dict) -> None:
    """Act on a site once its output folder is complete (deploy, index, notify).

    :param config: the site's configuration (``SiteConfig``).
    :param output: the output folder (``pathlib.Path``), complete and consistent.
    :param summary: what ``dzbuild build --json`` prints for this build.
    """

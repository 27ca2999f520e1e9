"""Every hook dzbuild calls, in one place.

Each ``register_*`` hook is a registration callback in the style of ``llm``: dzbuild passes a
``register`` function and a plugin calls it once per thing it provides; dzbuild checks each
object against its protocol in ``dzbuild.api`` then and there. dzbuild's own resamplers,
storages, formats, executors and templates are registered through these same hooks (see
``dzbuild/default_plugins``). An implementation may accept fewer arguments than its
specification names.

Names are unique per kind: a clash names both plugins and the hook. An exception other than a
``DzbuildError`` raised inside any hook becomes a ``PluginError`` (exit code 5) naming the plugin
and the hook; raise ``ConfigError`` for a mistake in the user's configuration, so they see exit
code 2 and your message.
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

    :param register: call ``register(resampler)`` once per ``Resampler`` (see ``dzbuild.api``).
    """


# -- Files ----------------------------------------------------------------------------------


@hookspec
def register_storages(register: Register) -> None:
    """Register storages that place every published file at its output path.

    :param register: call ``register(storage)`` once per ``Storage``, with any of its optional
        capabilities (``dzbuild.api.CAPABILITIES``).
    """


# -- Output formats ---------------------------------------------------------------------------


@hookspec
def register_formats(register: Register) -> None:
    """Register output formats: where each tile of a version lives and which descriptor describes it.

    :param register: call ``register(output_format)`` once per ``OutputFormat``, with any of its
        optional capabilities (``dzbuild.api.CAPABILITIES``).
    """


# -- Executors --------------------------------------------------------------------------------


@hookspec
def register_executors(register: Register) -> None:
    """Register executor providers that run a build's work units.

    :param register: call ``register(provider)`` once per ``ExecutorProvider``; the ``Executor``
        its ``open`` returns is checked when it opens. dzbuild's own ``inline`` and ``fork``
        executors are registered through this hook.
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

"""The site-level hooks, called where a site build reaches them (see ``dzbuild.hookspecs``).

Site hooks see every installed plugin, entry points included: a site build always lists them.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PluginError
from ..plugins import call_each, get_plugin_manager, registry


def template_dirs(own: Path | None) -> list[Path]:
    """The site's own folder, then each plugin's (third-party first), then dzbuild's built-in one."""
    return [Path(p) for p in (own, *(entry.obj for entry in registry(complete=True).template_dirs)) if p]


def template_vars(template: str, config) -> dict:
    """Every plugin's ``extra_template_vars`` for one page, merged in registration order."""
    merged: dict = {}
    for plugin, extra in call_each(get_plugin_manager(), "extra_template_vars", template=template, config=config):
        if extra is not None and not isinstance(extra, dict):
            kind = type(extra).__name__
            raise PluginError(f"plugin {plugin!r} returned a {kind} from extra_template_vars, not a dict")
        merged.update(extra or {})
    return merged


def site_built(config, output: Path, summary: dict) -> None:
    """Tell every plugin that the site's output folder is complete."""
    call_each(get_plugin_manager(), "site_built", config=config, output=output, summary=summary)

"""Loading plugins and looking up what they registered.

Built-in behaviour lives in ``DEFAULT_PLUGINS`` and is registered exactly like a third-party
plugin found through the ``dzbuild`` entry-point group. Loading happens once, lazily, so that
``dzbuild --version`` and a no-op rebuild never pay for it; and the entry-point scan (tens of
milliseconds: it reads every installed distribution's metadata) happens only when a name is
asked for that no built-in provides, or when every plugin is listed.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field

import pluggy

from . import hookspecs
from .errors import PluginError

ENTRY_POINT_GROUP = "dzbuild"
DEFAULT_PLUGINS = (
    "dzbuild.default_plugins.resample_opencv",
    "dzbuild.default_plugins.storage_files",
    "dzbuild.default_plugins.format_dzi",
)
KINDS = {
    "resampler": ("register_resamplers", ("name", "parent")),
    "storage": ("register_storages", ("name", "write", "link")),
    "format": ("register_formats", ("name", "dirs", "tile_path", "descriptors")),
}

_manager: pluggy.PluginManager | None = None
_entry_points_loaded = False
_registry: "Registry | None" = None


@dataclass
class Entry:
    obj: object
    plugin: str


@dataclass
class Registry:
    """What every plugin registered, by kind and name; clashes are refused here, in one place."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    complete: bool = False  # True once entry-point plugins were loaded too

    def get(self, kind: str, name: str):
        entry = self.entries[kind].get(name)
        if entry is None and not self.complete:
            return registry(complete=True).get(kind, name)
        if entry is None:
            known = ", ".join(sorted(self.entries[kind])) or "none"
            raise PluginError(f"no {kind} named {name!r} is installed (installed: {known})")
        return entry.obj

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])


def get_plugin_manager(entry_points: bool = True) -> pluggy.PluginManager:
    """The process-wide plugin manager: built-ins, plus entry points unless running under tests."""
    global _manager, _entry_points_loaded
    if _manager is None:
        pm = pluggy.PluginManager("dzbuild")
        pm.add_hookspecs(hookspecs)
        for module_name in DEFAULT_PLUGINS:
            pm.register(importlib.import_module(module_name), name=module_name)
        if os.environ.get("DZBUILD_TRACE_HOOKS"):
            pm.trace.root.setwriter(lambda message: print(message, end="", file=sys.stderr))
            pm.enable_tracing()
        _manager = pm
    if entry_points and not _entry_points_loaded:
        if not getattr(sys, "_dzbuild_called_from_test", False):
            _manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        _entry_points_loaded = True
    return _manager


def registry(complete: bool = False) -> Registry:
    """Call every registration hook once and return what was registered.

    ``complete`` also loads entry-point plugins; without it they load on the first lookup of
    a name that no already-loaded plugin provides.
    """
    global _registry
    if _registry is None or (complete and not _registry.complete):
        pm = get_plugin_manager(entry_points=complete)
        _registry = collect(pm)
        _registry.complete = _entry_points_loaded
    return _registry


def reset() -> None:
    """Forget the cached registry, e.g. after a test registered or unregistered a plugin."""
    global _registry
    _registry = None


def collect(pm: pluggy.PluginManager) -> Registry:
    result = Registry()
    for kind, (hook_name, required) in KINDS.items():
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

            def register(obj, _kind=kind, _plugin=plugin_name, _hook=hook_name, _required=required):
                _add(result, _kind, obj, _plugin, _hook, _required)

            impl.function(register=register)
    return result


def _add(result: Registry, kind: str, obj, plugin: str, hook: str, required: tuple[str, ...]) -> None:
    missing = [attr for attr in required if not hasattr(obj, attr)]
    if missing:
        raise PluginError(f"plugin {plugin!r} registered a {kind} in {hook} without {', '.join(missing)}")
    name = obj.name
    if not isinstance(name, str) or not name:
        raise PluginError(f"plugin {plugin!r} registered a {kind} in {hook} with no name")
    previous = result.entries[kind].get(name)
    if previous is not None:
        raise PluginError(
            f"plugin {plugin!r} registered a {kind} named {name!r} in {hook}, "
            f"but plugin {previous.plugin!r} already did"
        )
    result.entries[kind][name] = Entry(obj, plugin)


def describe() -> list[dict]:
    """One row per plugin: its name, the hooks it implements and what it registered."""
    pm = get_plugin_manager()
    reg = registry(complete=True)
    rows = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
        provides = {
            kind: sorted(n for n, entry in reg.entries[kind].items() if entry.plugin == name) for kind in KINDS
        }
        dist = next((d for p, d in pm.list_plugin_distinfo() if p is plugin), None)
        version = getattr(getattr(dist, "metadata", None), "get", lambda *_: None)("version") if dist else None
        rows.append({
            "name": name,
            "version": version,
            "builtin": name in DEFAULT_PLUGINS,
            "hooks": hooks,
            **{kind: names for kind, names in provides.items() if names},
        })
    return rows


def optional_member(obj, name: str):
    """An optional member of a plugin object (storage ``link_into``, format ``check``), or None.

    The one place where dzbuild asks whether a plugin offers more than its protocol requires.
    """
    return getattr(obj, name, None)

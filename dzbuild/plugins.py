"""Loading plugins, checking what they register, and calling their hooks.

Built-in behaviour lives in ``DEFAULT_PLUGINS`` and is registered exactly like a third-party
plugin found through the ``dzbuild`` entry-point group. Loading happens once, lazily, so that
``dzbuild --version`` and a no-op rebuild never pay for it; and the entry-point scan (tens of
milliseconds: it reads every installed distribution's metadata) happens only when a name is
asked for that no built-in provides, or when every plugin is listed.

Every hook is called through ``pm.hook`` (one plugin at a time, so the registry and error
messages know which plugin did what), which is what ``DZBUILD_TRACE_HOOKS=1`` traces.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import sys
from dataclasses import dataclass, field

import pluggy

from . import api, hookspecs
from .errors import ConfigError, DzbuildError, PluginError

ENTRY_POINT_GROUP = "dzbuild"
DEFAULT_PLUGINS = (
    "dzbuild.default_plugins.resample_opencv",
    "dzbuild.default_plugins.storage_files",
    "dzbuild.default_plugins.format_dzi",
    "dzbuild.default_plugins.site_templates",
    "dzbuild.default_plugins.executors",
)
KINDS = {  # kind: (the hook that registers it, the protocol each registered object satisfies)
    "resampler": ("register_resamplers", api.Resampler),
    "storage": ("register_storages", api.Storage),
    "format": ("register_formats", api.OutputFormat),
    "executor": ("register_executors", api.ExecutorProvider),
}
TEMPLATE_HOOK = "register_template_dirs"

_manager: pluggy.PluginManager | None = None
_entry_points_loaded = False
_registry: "Registry | None" = None


class UnknownName(ConfigError, PluginError):
    """A name asked for (``--storage``, ``--executor``, ``formats``) that no installed plugin provides.

    Seen by whoever typed the name, so a usage error (exit code 2) with the nearest installed name;
    still a ``PluginError`` for callers that treat a missing plugin as one.
    """


@dataclass
class Entry:
    obj: object
    plugin: str


@dataclass
class Registry:
    """What every plugin registered, by kind and name; clashes are refused here, in one place."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    template_dirs: list[Entry] = field(default_factory=list)  # third-party folders first, built-in last
    complete: bool = False  # True once entry-point plugins were loaded too

    def get(self, kind: str, name: str):
        return self.entry(kind, name).obj

    def entry(self, kind: str, name: str) -> Entry:
        """The ``kind`` named ``name`` and the plugin that registered it."""
        entry = self.entries[kind].get(name)
        if entry is None and not self.complete:
            return registry(complete=True).entry(kind, name)
        if entry is None:
            raise UnknownName(f"no {kind} named {name!r} is installed{_installed(self.names(kind), name)}")
        return entry

    def open_executor(self, name: str, jobs: int | None, address: str | None):
        """Open an executor of the provider ``name``, checked like a registered object when it opens."""
        entry = self.entry("executor", name)
        executor = entry.obj.open(jobs, address)
        problem = contract_problem(executor, api.Executor)
        if problem:
            hook = KINDS["executor"][0]
            opened = f"whose open() returned an object {problem}"
            raise PluginError(f"plugin {entry.plugin!r} registered an executor {name!r} in {hook} {opened}")
        return executor

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])


def _installed(names: list[str], wanted: str) -> str:
    """`` (installed: a, b); did you mean 'a'?`` for an unknown name."""
    close = difflib.get_close_matches(str(wanted), names, n=1)
    return f" (installed: {', '.join(names) or 'none'})" + (f"; did you mean {close[0]!r}?" if close else "")


def capability(obj, protocol: type):
    """``obj`` if it has the optional capability ``protocol`` (``api.HasManifest``...), else None.

    The one place where dzbuild asks whether a plugin's object offers more than its kind requires;
    registration already refused an object with part of a capability, so having it is enough.
    """
    if not any(protocol in capabilities for capabilities in api.CAPABILITIES.values()):
        raise ValueError(f"{protocol.__name__} is not an optional capability of dzbuild.api")
    return obj if isinstance(obj, protocol) else None


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
            _load_entry_points(_manager)
        _entry_points_loaded = True
    return _manager


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """Every installed plugin; one that cannot be imported is a plugin error, not a traceback."""
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    except Exception as exc:
        raise PluginError(
            f"an installed plugin of the {ENTRY_POINT_GROUP!r} entry-point group cannot be loaded:"
            f" {type(exc).__name__}: {exc}"
        ) from exc


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


class PluginRegister:
    """The ``register`` function one plugin receives; its repr names the plugin in hook traces."""

    def __init__(self, plugin: str, accept) -> None:
        self.plugin, self.accept = plugin, accept

    def __call__(self, obj) -> None:
        self.accept(obj, self.plugin)

    def __repr__(self) -> str:
        return f"<register for plugin {self.plugin!r}>"


def call_each(pm: pluggy.PluginManager, hook: str, make_kwargs=None, **kwargs) -> list[tuple[str, object]]:
    """Call ``hook`` on each plugin that implements it, through ``pm.hook`` so that tracing sees it.

    Returns ``(plugin name, result)`` pairs in registration order. ``make_kwargs(plugin)`` adds
    per-plugin arguments. A failure that is not a ``DzbuildError`` becomes a ``PluginError``
    naming the plugin and the hook.
    """
    everyone = pm.get_plugins()
    results = []
    for impl in getattr(pm.hook, hook).get_hookimpls():  # in registration order: built-ins first
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        caller = pm.subset_hook_caller(hook, [p for p in everyone if p is not impl.plugin])
        extra = make_kwargs(name) if make_kwargs else {}
        try:
            answer = caller(**kwargs, **extra)
        except DzbuildError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed in {hook}: {type(exc).__name__}: {exc}") from exc
        results.append((name, answer[0] if answer else None))
    return results


def collect(pm: pluggy.PluginManager) -> Registry:
    check_api_versions(pm)
    result = Registry()
    for kind, (hook, protocol) in KINDS.items():
        accept = _acceptor(result, kind, hook, protocol)
        call_each(pm, hook, lambda plugin, accept=accept: {"register": PluginRegister(plugin, accept)})
    dirs: list[Entry] = []
    call_each(pm, TEMPLATE_HOOK, lambda plugin: {"register": PluginRegister(plugin, lambda d, p: _add_dir(dirs, d, p))})
    result.template_dirs = sorted(dirs, key=lambda entry: entry.plugin in DEFAULT_PLUGINS)
    return result


def _add_dir(dirs: list[Entry], folder, plugin: str) -> None:
    if not isinstance(folder, (str, os.PathLike)) or not os.path.isdir(folder):
        raise PluginError(f"plugin {plugin!r} registered {folder!r} in {TEMPLATE_HOOK}, which is not a folder")
    dirs.append(Entry(folder, plugin))


def _acceptor(result: Registry, kind: str, hook: str, protocol: type):
    def accept(obj, plugin: str) -> None:
        problem = contract_problem(obj, protocol)
        if problem:
            raise PluginError(f"plugin {plugin!r} registered a {kind} in {hook} {problem}")
        previous = result.entries[kind].get(obj.name)
        if previous is not None:
            raise PluginError(
                f"plugin {plugin!r} registered a {kind} named {obj.name!r} in {hook}, "
                f"but plugin {previous.plugin!r} already did"
            )
        result.entries[kind][obj.name] = Entry(obj, plugin)

    return accept


def contract_problem(obj, protocol: type) -> str | None:
    """What keeps ``obj`` from being a ``protocol`` ("without parent, name"), or None if nothing.

    Every capability ``obj`` has any member of must be complete too ("with manifest but without
    manifest_document (HasManifest)"). Presence is read without calling properties, so an
    executor that connects to its cluster on first use is not started by being checked.
    """
    problem = _members_problem(obj, protocol, api.protocol_members(protocol))
    if problem:
        return problem
    for optional in api.CAPABILITIES.get(protocol, ()):
        members = api.protocol_members(optional)
        present = [member for member in members if _has(obj, optional, member)]
        if not present:
            continue
        missing = [member for member in members if member not in present]
        if missing:
            return f"with {', '.join(present)} but without {', '.join(missing)} ({optional.__name__})"
        problem = _members_problem(obj, optional, members)
        if problem:
            return f"{problem} ({optional.__name__})"
    return None


def _has(obj, protocol: type, member: str) -> bool:
    """Whether ``obj`` has ``member`` of its own: a protocol's empty stub, inherited, does not count."""
    try:
        found = inspect.getattr_static(obj, member)
    except AttributeError:
        return False
    return found is not vars(protocol).get(member, object())


def _members_problem(obj, protocol: type, members: tuple[str, ...]) -> str | None:
    missing = [member for member in members if not _has(obj, protocol, member)]
    if missing:
        return f"without {', '.join(missing)}"
    methods = [member for member in members if callable(vars(protocol).get(member))]
    not_callable = [member for member in methods if not callable(getattr(obj, member))]
    if not_callable:
        return f"whose {', '.join(not_callable)} cannot be called"
    annotations = vars(protocol).get("__annotations__", {})
    texts = [m for m in members if annotations.get(m) in ("str", str)]  # "str" under postponed annotations
    if "name" in texts and not (isinstance(obj.name, str) and obj.name):
        return "with no name"
    bad = [member for member in texts if not (isinstance(getattr(obj, member), str) and getattr(obj, member))]
    return f"whose {', '.join(bad)} is not a non-empty string" if bad else None


def api_problem(stated) -> str | None:
    """Why a plugin that states ``dzbuild_api = stated`` cannot run against this ``api.API_VERSION``."""
    have = tuple(int(part) for part in api.API_VERSION.split("."))
    try:
        major, minor = (int(part) for part in stated.split("."))
    except (AttributeError, ValueError):
        return f'states dzbuild_api = {stated!r}, which is not a "MAJOR.MINOR" string such as "{api.API_VERSION}"'
    if major != have[0] or minor > have[1]:
        return f"needs dzbuild plugin API {stated}, but this dzbuild provides API {api.API_VERSION}"
    return None


def check_api_versions(pm: pluggy.PluginManager) -> None:
    """Refuse a plugin written for another major version of the contract, or a newer minor one."""
    for name, plugin in pm.list_name_plugin():
        stated = getattr(plugin, "dzbuild_api", None)  # a plugin module's own statement, not a registered object
        problem = api_problem(stated) if stated is not None else None
        if problem:
            raise PluginError(f"plugin {name!r} {problem}")


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
        provides["template_dirs"] = [str(entry.obj) for entry in reg.template_dirs if entry.plugin == name]
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


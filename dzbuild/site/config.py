"""The site configuration: ``dzbuild.toml`` at the site root, or ``[tool.dzbuild]`` in ``pyproject.toml``.

Every key is declared once, in ``schema``; this module finds the file, reads it through those
declarations and checks what no single key can (keys that depend on each other, folders that must
exist). Every mistake is a ``ConfigError`` that names the key and the file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from ..plugins import registry
from ..pyramid.formats import resolve_formats
from ..pyramid.spec import PyramidSpec
from .hooks import template_dirs
from .keys import keys_of
from .pages import check_templates
from .paths import OWN_NAME, check_paths
from .schema import CollectionConfig, SiteConfig, TileDefaults, ViewerConfig
from .tables import read_table, read_toml

__all__ = ["CollectionConfig", "SiteConfig", "ViewerConfig", "load_config"]  # the dataclasses live in schema

CONFIG_FILE = "dzbuild.toml"
PYPROJECT = "pyproject.toml"


def find_config(root: Path) -> tuple[dict, Path | None]:
    """The raw table from ``dzbuild.toml``, else ``[tool.dzbuild]`` of ``pyproject.toml``, else {}."""
    own = root / CONFIG_FILE
    if own.is_file():
        return read_toml(own), own
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        table = read_toml(pyproject).get("tool", {}).get("dzbuild")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError("[tool.dzbuild] must be a table", pyproject)
            return table, pyproject
    return {}, None


def load_config(root: Path | str) -> SiteConfig:
    """Read and validate the configuration of the site at ``root`` (defaults when it has none)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError("is not a folder: dzbuild build needs the site's root folder", root)
    data, path = find_config(root)
    where = path or root / CONFIG_FILE
    top = read_table(data, SiteConfig, "", where)
    tiles = read_table(_sub_table(top, "tiles", where), TileDefaults, "tiles.", where)
    viewer = read_table(_sub_table(top, "viewer", where), ViewerConfig, "viewer.", where)
    config = SiteConfig(
        root=root,
        file=path,
        **_loaded(SiteConfig, top, root, top),
        tile_defaults={k: v for k, v in tiles.items() if v is not None},
        viewer=ViewerConfig(**_loaded(ViewerConfig, viewer, root, top)),
        collections=parse_collections(top.get("collections", []), where),
    )
    check_values(config, where)
    return replace(config, formats=check_formats(config, where))


def _loaded(cls, values: dict, root: Path, top: dict) -> dict:
    """The checked values of ``cls``'s keys as the build uses them: paths below the site root, lists as tuples."""
    loaded = {}
    for name, spec in keys_of(cls).items():
        value = values[name]
        if spec.load == "path":
            value = (root / value).resolve() if value else None
        elif spec.load == "control" and value is True:  # the output's own _headers or _redirects
            value = (root / top["output"]).resolve() / OWN_NAME[name]
        elif spec.load == "control":  # a path, or false for none
            value = (root / value).resolve() if value else None
        elif isinstance(value, list):
            value = tuple(value)
        loaded[name] = value
    return loaded


def _sub_table(data: dict, name: str, path) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name!r} must be a table ([{name}]), got {table!r}", path)
    return table


def check_values(config: SiteConfig, where) -> None:
    """What no single key's check can see: keys that depend on each other, and the file system."""
    if config.viewer.cdn_url and not config.viewer.cdn_integrity:
        raise ConfigError("'viewer.cdn_url' needs 'viewer.cdn_integrity' (sha384-...) so browsers can check it", where)
    if not config.source.is_dir():
        raise ConfigError(f"'source' is not a folder: {config.source}", where)
    if config.output == config.source or config.output in config.source.parents:
        raise ConfigError("'output' must not be the source folder or contain it", where)
    if config.cache == config.output or config.output in config.cache.parents:
        raise ConfigError("'cache' must be outside 'output': the output is what gets deployed", where)
    if config.templates is not None:
        if not config.templates.is_dir():
            raise ConfigError(f"'templates' is not a folder: {config.templates}", where)

        check_templates(template_dirs(config.templates))
    check_paths(config, where)


def check_formats(config: SiteConfig, where) -> tuple[str, ...]:
    """The site's formats in build order; the viewer's format must be one of them and open in OpenSeadragon."""
    viewer = config.viewer.format
    if viewer not in config.formats:
        raise ConfigError(
            f"'formats' must include \"{viewer}\", the format the viewer pages open ('viewer.format'),"
            f" got {list(config.formats)}",
            where,
        )
    try:
        formats = resolve_formats(config.formats)
    except ConfigError as exc:
        raise ConfigError(f"'formats': {exc.message}", where) from None
    fmt = registry().get("format", viewer)
    if fmt.viewer_source(f"{viewer}/v0/{fmt.descriptor}", PyramidSpec(1000, 600, 256)) is None:
        raise ConfigError(f"'viewer.format': OpenSeadragon cannot open the {viewer!r} format", where)
    return formats


def parse_collections(raw, path) -> tuple[CollectionConfig, ...]:
    """The ``[[collections]]`` array of the site configuration."""
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError("'collections' must be an array of tables ([[collections]])", path)
    return tuple(collection_config(item, path, base="", where=f"collections[{i}].") for i, item in enumerate(raw))


def collection_config(data: dict, path, base: str, where: str) -> CollectionConfig:
    """One collection declaration, from ``[[collections]]`` or a collection file, validated."""
    values = read_table(data, CollectionConfig, where, path)
    out = (values["path"] or values["name"]).strip("/")
    if not out or ".." in PurePosixPath(out).parts:
        raise ConfigError(f"'{where}path' must be a folder below the output, got {out!r}", path)
    loaded = {**values, "images": tuple(values["images"]), "path": out, "title": values["title"] or values["name"]}
    return CollectionConfig(**loaded, base=base, declared_in=str(path))

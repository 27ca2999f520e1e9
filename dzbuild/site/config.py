"""The site configuration: ``dzbuild.toml`` at the site root, or ``[tool.dzbuild]`` in ``pyproject.toml``.

Every key is declared once in the tables below (type, default, meaning); the README lists the same
keys. Unknown keys and wrong types are ``ConfigError``s that name the key and the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from ..plugins import registry
from ..pyramid.formats import DEEP_ZOOM, DEFAULT_FORMATS, resolve_formats
from ..pyramid.spec import TILE_FORMATS, PyramidSpec
from ..run.select import parse_executor
from .hooks import template_dirs
from .hostlimits import HOSTS
from .pages import check_templates
from .paths import check_base_url, check_paths
from .tables import check_table, read_toml

CONFIG_FILE = "dzbuild.toml"
PYPROJECT = "pyproject.toml"
OPENSEADRAGON_MODES = ("local", "cdn")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # the collection engine's rule: it names files

# key: (accepted types, default). Paths are relative to the site root.
TOP_KEYS = {
    "source": (str, "."),  # folder scanned for images (folders holding a pyramid.json)
    "output": (str, "_site"),  # the deployable folder
    "cache": (str, ".dzbuild"),  # pyramids and build state; keep it between builds, never deploy it
    "templates": (str, None),  # a folder whose templates override dzbuild's own
    "title": (str, "Deep Zoom images"),  # the index page's title
    "base_url": (str, "/"),  # where the output folder is served: "/", "/zoom/" or "https://host/zoom/"
    "storage": (str, "hardlink"),  # hardlink, symlink or copy
    "resampler": (str, None),  # dct (default) or area
    "formats": (list, list(DEFAULT_FORMATS)),  # output formats; one that gives every tile a path holds them (dzi)
    "jobs": (int, None),  # worker processes; default every core
    "executor": (str, None),  # NAME or NAME://ADDRESS (fork, inline, dask, dask://host:8786); default fork
    "host": (str, "cloudflare-pages"),  # whose limits to check: cloudflare-pages, netlify, github-pages, none
    "headers_file": ((str, bool), True),  # True: OUTPUT/_headers; a path; or false for none
    "redirects_file": ((str, bool), True),  # True: OUTPUT/_redirects; a path; or false for none
    "data_file": (str, None),  # a JSON listing every image for a site generator (Hugo data/, Jekyll _data/)
}
TILES_KEYS = {"format": (str, None), "quality": (int, None)}  # defaults for pyramid.json files that omit them
VIEWER_KEYS = {
    "openseadragon": (str, "local"),  # local (copied from node_modules) or cdn
    "openseadragon_dir": (str, None),  # a folder holding openseadragon.min.js and images/
    "cdn_url": (str, None),  # script URL when openseadragon = "cdn"
    "cdn_integrity": (str, None),  # its Subresource Integrity hash (sha384-...)
    "options": (dict, {}),  # extra OpenSeadragon options, passed through as JSON
    "format": (str, DEEP_ZOOM),  # which of 'formats' the viewer pages open
}
COLLECTION_KEYS = {
    "name": (str, None),  # required
    "images": (list, None),  # image folders or globs (* within a folder, ** across folders)
    "path": (str, None),  # output folder of the collection; default: the name (or the declaring folder)
    "title": (str, None),
    "tile_size": (int, 256),
    "max_level": (int, 8),
    "quality": (int, 85),
}


@dataclass(frozen=True)
class CollectionConfig:
    name: str
    images: tuple[str, ...]  # globs relative to ``base``
    path: str  # output path relative to the output folder, posix
    title: str
    tile_size: int = 256
    max_level: int = 8
    quality: int = 85
    base: str = ""  # where the globs are rooted, relative to the source root (posix, "" for the root)
    declared_in: str = ""


@dataclass(frozen=True)
class ViewerConfig:
    openseadragon: str = "local"
    openseadragon_dir: Path | None = None
    cdn_url: str | None = None
    cdn_integrity: str | None = None
    options: dict = field(default_factory=dict)
    format: str = DEEP_ZOOM


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    file: Path | None  # the file it came from; None when the site has no configuration
    source: Path
    output: Path
    cache: Path
    templates: Path | None = None
    title: str = "Deep Zoom images"
    base_url: str = "/"
    storage: str = "hardlink"
    resampler: str | None = None
    formats: tuple[str, ...] = DEFAULT_FORMATS
    jobs: int | None = None
    executor: str | None = None
    host: str = "cloudflare-pages"
    headers_file: Path | None = None
    redirects_file: Path | None = None
    data_file: Path | None = None
    tile_defaults: dict = field(default_factory=dict)
    viewer: ViewerConfig = field(default_factory=ViewerConfig)
    collections: tuple[CollectionConfig, ...] = ()

    @property
    def base_path(self) -> str:
        """The URL path of the output folder, with a leading and a trailing slash."""
        path = self.base_url.split("://", 1)[1].partition("/")[2] if "://" in self.base_url else self.base_url
        return "/" + path.strip("/") + "/" if path.strip("/") else "/"


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


TABLES = {"tiles": "[tiles]", "viewer": "[viewer]", "collections": "[[collections]]"}  # top-level tables


def load_config(root: Path | str) -> SiteConfig:
    """Read and validate the configuration of the site at ``root`` (defaults when it has none)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError("is not a folder: dzbuild build needs the site's root folder", root)
    data, path = find_config(root)
    where = path or root / CONFIG_FILE
    data = dict(data)
    tiles = check_table(_sub_table(data, "tiles", where), TILES_KEYS, "tiles.", where)
    viewer = check_table(_sub_table(data, "viewer", where), VIEWER_KEYS, "viewer.", where)
    raw_collections = data.pop("collections", [])
    top = check_table(data, TOP_KEYS, "", where, TABLES)
    config = SiteConfig(
        root=root,
        file=path,
        source=_inside(root, top["source"]),
        output=_inside(root, top["output"]),
        cache=_inside(root, top["cache"]),
        templates=_inside(root, top["templates"]) if top["templates"] else None,
        title=top["title"],
        base_url=top["base_url"],
        storage=top["storage"],
        resampler=top["resampler"],
        formats=tuple(top["formats"]),
        jobs=top["jobs"],
        executor=top["executor"],
        host=top["host"],
        headers_file=_control_file(root, top, "headers_file", "_headers"),
        redirects_file=_control_file(root, top, "redirects_file", "_redirects"),
        data_file=_inside(root, top["data_file"]) if top["data_file"] else None,
        tile_defaults={k: v for k, v in tiles.items() if v is not None},
        viewer=_viewer(root, viewer),
        collections=parse_collections(raw_collections, where),
    )
    check_values(config, where)
    return replace(config, formats=check_formats(config, where))


def _sub_table(data: dict, name: str, path) -> dict:
    table = data.pop(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name!r} must be a table ([{name}]), got {table!r}", path)
    return table


def _inside(root: Path, value: str) -> Path:
    return (root / value).resolve()


def _control_file(root: Path, top: dict, key: str, name: str) -> Path | None:
    value = top[key]
    if value is False:
        return None
    if value is True:
        return _inside(root, top["output"]) / name
    return _inside(root, value)


def _viewer(root: Path, viewer: dict) -> ViewerConfig:
    folder = viewer["openseadragon_dir"]
    return ViewerConfig(
        openseadragon=viewer["openseadragon"],
        openseadragon_dir=_inside(root, folder) if folder else None,
        cdn_url=viewer["cdn_url"],
        cdn_integrity=viewer["cdn_integrity"],
        options=viewer["options"],
        format=viewer["format"],
    )


def check_values(config: SiteConfig, where) -> None:
    """Values that have the right type but cannot work."""
    if config.host not in HOSTS:
        raise ConfigError(f"'host' must be one of {', '.join(HOSTS)}, got {config.host!r}", where)
    if config.viewer.openseadragon not in OPENSEADRAGON_MODES:
        modes = ", ".join(OPENSEADRAGON_MODES)
        raise ConfigError(f"'viewer.openseadragon' must be one of {modes}, got {config.viewer.openseadragon!r}", where)
    if config.viewer.cdn_url and not config.viewer.cdn_integrity:
        raise ConfigError("'viewer.cdn_url' needs 'viewer.cdn_integrity' (sha384-...) so browsers can check it", where)
    if not config.formats:
        raise ConfigError("'formats' must name at least one format", where)
    if config.jobs is not None and config.jobs < 1:
        raise ConfigError(f"'jobs' must be at least 1, got {config.jobs}", where)
    if config.executor is not None:
        try:
            parse_executor(config.executor)
        except ConfigError as exc:
            raise ConfigError(f"'executor': {exc.message}", where) from None
    if not config.source.is_dir():
        raise ConfigError(f"'source' is not a folder: {config.source}", where)
    if config.output == config.source or config.output in config.source.parents:
        raise ConfigError("'output' must not be the source folder or contain it", where)
    if config.cache == config.output or config.output in config.cache.parents:
        raise ConfigError("'cache' must be outside 'output': the output is what gets deployed", where)
    check_base_url(config.base_url, where)
    fmt = config.tile_defaults.get("format")
    if fmt is not None and fmt not in TILE_FORMATS:
        raise ConfigError(f"'tiles.format' must be one of {', '.join(TILE_FORMATS)}, got {fmt!r}", where)
    quality = config.tile_defaults.get("quality")
    if quality is not None and not 1 <= quality <= 100:
        raise ConfigError(f"'tiles.quality' must be between 1 and 100, got {quality}", where)
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
    values = check_table(data, COLLECTION_KEYS, where, path)
    if not values["name"]:
        raise ConfigError(f"'{where}name' is required", path)
    if not SAFE_NAME.match(values["name"]):
        raise ConfigError(f"'{where}name' must be letters, digits, '.', '_' or '-', got {values['name']!r}", path)
    if not values["images"]:
        raise ConfigError(f"'{where}images' must list at least one image folder or glob", path)
    for key in ("tile_size", "max_level", "quality"):
        if values[key] < (0 if key == "max_level" else 1):
            raise ConfigError(f"{where + key!r} must be positive, got {values[key]}", path)
    out = (values["path"] or values["name"]).strip("/")
    if not out or ".." in PurePosixPath(out).parts:
        raise ConfigError(f"'{where}path' must be a folder below the output, got {out!r}", path)
    return CollectionConfig(
        name=values["name"],
        images=tuple(values["images"]),
        path=out,
        title=values["title"] or values["name"],
        tile_size=values["tile_size"],
        max_level=values["max_level"],
        quality=values["quality"],
        base=base,
        declared_in=str(path),
    )

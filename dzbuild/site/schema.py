"""Every key of the site configuration, declared once: these dataclasses are the schema.

Each key is a dataclass field made by ``keys.key()``, carrying its TOML type, its default, its check,
one line of documentation and an example. Reading a file (``tables.read_table``), the error
messages (a wrong type, an unknown key and the closest known one) and the reference page
(``configdoc``, committed as ``docs/configuration.md``) are derived from these fields, as mkdocs
derives its own from ``config_options``. A new key is one field here, and nothing else to keep in
step. Checks that need several keys or the file system stay in ``config.check_values``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..pyramid.formats import DEEP_ZOOM, DEFAULT_FORMATS
from ..pyramid.spec import TILE_FORMATS
from ..run.select import parse_executor
from .hostlimits import HOSTS
from .keys import Key, at_least, key, keys_of, table, tables_of
from .paths import base_url_problem

OPENSEADRAGON_MODES = ("local", "cdn")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # the collection engine's rule: it names files


# -- Checks of single keys: each returns what is wrong, worded to follow the key's quoted name ----


def _between_1_and_100(value) -> str | None:
    return None if 1 <= value <= 100 else f"must be between 1 and 100, got {value}"


def _some_formats(value) -> str | None:
    return None if value else "must name at least one format"


def _executor(value) -> str | None:
    try:
        parse_executor(value)
    except ConfigError as exc:
        return f": {exc.message}"
    return None


def _safe_name(value) -> str | None:
    return None if SAFE_NAME.match(value) else f"must be letters, digits, '.', '_' or '-', got {value!r}"


def _some_images(value) -> str | None:
    return None if value else "must list at least one image folder or glob"


# -- The keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileDefaults:
    """Defaults for the ``pyramid.json`` files that omit ``format`` or ``quality``; a value in the file wins."""

    format: str | None = key(
        None,
        "tile format of images whose `pyramid.json` names none",
        example="png",
        toml=str,
        choices=TILE_FORMATS,
    )
    quality: int | None = key(
        None,
        "JPEG/WebP quality of images whose `pyramid.json` names none; changing it later changes published versions,"
        " which dzbuild refuses (exit 4)",
        example=90,
        toml=int,
        check=_between_1_and_100,
    )


@dataclass(frozen=True)
class ViewerConfig:
    """How the viewer pages load OpenSeadragon and which format they open."""

    openseadragon: str = key(
        "local",
        "`local`: copy OpenSeadragon into the output, so pages work offline; `cdn`: load it from jsDelivr with a"
        " Subresource Integrity hash",
        example="cdn",
        choices=OPENSEADRAGON_MODES,
    )
    openseadragon_dir: Path | None = key(
        None,
        "a folder holding `openseadragon.min.js` and `images/`, copied instead of the copy dzbuild finds",
        example="vendor/openseadragon",
        toml=str,
        load="path",
    )
    cdn_url: str | None = key(
        None,
        'another OpenSeadragon script URL for `openseadragon = "cdn"`; `cdn_integrity` is then required',
        example="https://cdn.example/openseadragon.min.js",
        toml=str,
        shown="the pinned jsDelivr URL",
    )
    cdn_integrity: str | None = key(
        None,
        "the Subresource Integrity hash of `cdn_url` (`sha384-...`)",
        example="sha384-AAAA",
        toml=str,
        shown="the pinned version's",
    )
    options: dict = key(
        {},
        "OpenSeadragon options for every viewer, passed through as JSON",
        example={"showNavigator": False},
    )
    format: str = key(
        DEEP_ZOOM,
        "which of `formats` the image pages open; it must be one OpenSeadragon can open",
        example="zoomify",
    )


@dataclass(frozen=True)
class CollectionConfig:
    """A Deep Zoom collection of image folders; a folder's ``collection.toml`` declares one with the same keys.

    In a ``collection.toml`` (or ``collection.json``) the name defaults to the folder's, ``images``
    are relative to that folder (default ``["**"]``: every image below it) and its page is that
    folder's ``index.html``.
    """

    name: str = key(
        None,
        "the collection's name: letters, digits, `.`, `_`, `-`",
        example="maps",
        toml=str,
        check=_safe_name,
        required=True,
    )
    images: tuple[str, ...] = key(
        None,
        "image folders or globs (`*` within a folder name, `**` across folders), in order",
        example=["maps/*"],
        toml=list,
        check=_some_images,
        required=True,
    )
    path: str = key(None, "the collection's output folder", example="gallery/maps", toml=str, shown="the name")
    title: str = key(None, "the collection page's title", example="Old maps", toml=str, shown="the name")
    tile_size: int = key(
        256,
        "tile size of the collection's shared tiles; at least 2^`max_level`",
        example=512,
        check=at_least(1),
    )
    max_level: int = key(
        8,
        "the highest level of shared tiles (thumbnails of 2^level pixels)",
        example=7,
        check=at_least(0),
    )
    quality: int = key(85, "JPEG quality of the shared tiles", example=80, check=_between_1_and_100)
    base: str = ""  # where the globs are rooted, relative to the source root (posix, "" for the root)
    declared_in: str = ""


@dataclass(frozen=True)
class SiteConfig:
    """The top level of ``dzbuild.toml`` (or of ``[tool.dzbuild]`` in ``pyproject.toml``)."""

    root: Path
    file: Path | None  # the file it came from; None when the site has no configuration
    source: Path = key(
        ".",
        "folder searched for images; hidden folders, `node_modules/`, the output and the cache are skipped",
        example="content",
        load="path",
    )
    output: Path = key("_site", "the folder to deploy", example="public/zoom", load="path")
    cache: Path = key(
        ".dzbuild",
        "pyramids and build state; keep it between builds, never deploy it",
        example=".cache/dz",
        load="path",
    )
    templates: Path | None = key(
        None,
        "a folder of templates that override dzbuild's own",
        example="theme",
        toml=str,
        load="path",
    )
    title: str = key("Deep Zoom images", "the index page's title", example="My scans")
    base_url: str = key(
        "/",
        "where the output folder is served, a URL path or an http(s) URL: prefixes the `_headers` and `_redirects`"
        " paths, and is the base URL formats such as IIIF need",
        example="https://example.org/zoom/",
        check=base_url_problem,
    )
    storage: str = key(
        "hardlink",
        "how unchanged tiles are placed: `hardlink`, `symlink` or `copy`",
        example="copy",
    )
    resampler: str | None = key(
        None,
        "how parent tiles are made: `dct` or `area`",
        example="area",
        toml=str,
        shown='`"dct"`',
    )
    formats: tuple[str, ...] = key(
        list(DEFAULT_FORMATS),
        "output formats; one must give a path to every tile (`dzi`), and it is built first",
        example=[DEEP_ZOOM, "zoomify"],
        check=_some_formats,
    )
    jobs: int | None = key(
        None,
        "worker processes (`--jobs` overrides it)",
        example=1,
        toml=int,
        check=at_least(1),
        shown="every core",
    )
    executor: str | None = key(
        None,
        'where work units run: `fork`, `inline`, or a plugin\'s such as `dask` or `"dask://HOST:8786"`'
        " (`--executor` overrides it)",
        example="inline",
        toml=str,
        check=_executor,
        shown='`"fork"`',
    )
    host: str = key(
        "cloudflare-pages",
        "where the output is deployed: whose limits to check (`github-pages` also gets a `.nojekyll`)",
        example="github-pages",
        choices=tuple(HOSTS),
    )
    headers_file: Path | None = key(
        True,
        "`true`: `OUTPUT/_headers`; a path (e.g. the deploy root above the output); `false`: none",
        example="_headers",
        toml=(str, bool),
        load="control",
    )
    redirects_file: Path | None = key(
        True,
        "the same for `_redirects`",
        example=False,
        toml=(str, bool),
        load="control",
    )
    data_file: Path | None = key(
        None,
        "a JSON file listing every image and collection with its URLs, for a site generator's data folder; never a"
        " file dzbuild reads or writes otherwise",
        example="data/dzbuild.json",
        toml=str,
        load="path",
    )
    tile_defaults: dict = table(TileDefaults, "tiles", as_dict=True)
    viewer: ViewerConfig = table(ViewerConfig, "viewer")
    collections: tuple[CollectionConfig, ...] = table(CollectionConfig, "collections", array=True)

    @property
    def base_path(self) -> str:
        """The URL path of the output folder, with a leading and a trailing slash."""
        path = self.base_url.split("://", 1)[1].partition("/")[2] if "://" in self.base_url else self.base_url
        return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def declared_keys() -> dict[str, Key]:
    """Every key by the name its errors use: ``source``, ``viewer.format``, ``collections[].name``."""
    found = dict(keys_of(SiteConfig))
    for name, spec in tables_of(SiteConfig).items():
        prefix = f"{name}[]." if spec.array else f"{name}."
        found.update({prefix + k: v for k, v in keys_of(spec.keys).items()})
    return found

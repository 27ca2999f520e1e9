"""Viewer pages from Jinja templates: one per image, one per collection, and an index.

Templates come from the site's own folder first (``templates`` in the configuration, like
mkdocs' ``custom_dir``), then from dzbuild's ``templates/``. Autoescaping is on for every
template: image folder names and configuration values are data, never markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from .. import heavy
from ..api import HasLabel
from ..errors import ConfigError
from ..grid import Grid, Tile
from ..plugins import capability
from ..pyramid.formats import deep_zoom
from ..pyramid.spec import PyramidSpec
from . import listing
from .changes import changes_url
from .thumbnail import one_tile_level, thumbnail_name

PAGE = "index.html"
NOT_FOUND = "404.html"  # hosts answer a missing URL with it, status 404
URL_SAFE = "/!$&'()*+,;=:@-._~"


@dataclass
class ImageInfo:
    """What a page needs to know about one built image."""

    rel: str
    width: int
    height: int
    tile_size: int
    format: str
    versions: int  # published versions v0..v{versions-1}
    title: str = ""
    available: tuple[int, ...] = ()  # the versions still on disk (``dzbuild vacuum`` removes some); default all
    formats: tuple = ()  # the published format objects, the one holding every tile first; default DZI
    viewer: object = None  # the format the image's page opens; default the first
    overlap: int = 0
    manifest: str | None = None  # a IIIF manifest relative to the image's folder (``iiif/manifest.json``)
    manifest_url: str | None = None  # its URL under the site's base_url, for IIIF drag-and-drop links

    def __post_init__(self) -> None:
        self.title = self.title or PurePosixPath(self.rel).name
        self.available = tuple(self.available) or tuple(range(self.versions))
        self.formats = tuple(self.formats) or (deep_zoom(),)
        self.viewer = self.viewer or self.formats[0]

    @property
    def latest(self) -> int:
        return self.versions - 1

    def descriptor(self, version: int | None = None, fmt=None) -> str:
        """The versioned descriptor URL of ``fmt`` (default: the viewer's), relative to the image's folder."""
        fmt = fmt or self.viewer
        return f"{fmt.name}/v{self.latest if version is None else version}/{fmt.descriptor}"

    @property
    def viewer_label(self) -> str:
        """How the page names the link to the viewer format's descriptor: its label, or its name in capitals."""
        labelled = capability(self.viewer, HasLabel)
        return labelled.label if labelled is not None else self.viewer.name.upper()

    def tile_source(self, version: int | None = None):
        """What OpenSeadragon's ``tileSources`` gets for a version: the viewer format says."""
        spec = PyramidSpec(self.width, self.height, self.tile_size, self.overlap, self.format)
        return self.viewer.viewer_source(self.descriptor(version), spec)

    def thumbnail(self) -> tuple[str, int, int]:
        """The smallest-but-largest one-tile level of the latest version: a free, immutable thumbnail."""
        grid = Grid(self.width, self.height, self.tile_size)
        level = one_tile_level(grid)
        width, height = grid.level_size(level)
        home = self.formats[0]
        path = home.tile_path(grid, Tile(level, 0, 0), self.format)
        if path is None:  # packs only: the site copies it beside the page (``thumbnail.write_thumbnail``)
            return thumbnail_name(self.format), width, height
        return f"{home.name}/v{self.latest}/{path}", width, height


@dataclass
class CollectionInfo:
    name: str
    title: str
    path: str  # output folder, posix
    descriptor: str | None  # latest .dzc, relative to the collection's folder; None until built
    members: list[ImageInfo] = field(default_factory=list)


def url_path(rel: str) -> str:
    """Percent-encode a posix path for use in a URL (``a b/<x>`` becomes ``a%20b/%3Cx%3E``)."""
    return quote(rel, safe=URL_SAFE)


def relative_url(from_dir: str, to: str) -> str:
    """A URL from the page in folder ``from_dir`` to the output path ``to`` (both posix, "" is the root).

    Always ``./`` or ``../`` first: a folder named ``javascript:alert(1)`` must stay a path, never a scheme.
    """
    depth = len(PurePosixPath(from_dir).parts) if from_dir else 0
    return ("../" * depth or "./") + url_path(to)


def dot_relative(url: str) -> str:
    """A relative URL that no browser can read as a scheme or a host: ``./`` unless it starts with ``../``."""
    return url if url.startswith(("./", "../")) else "./" + url


def environment(template_dirs: list[Path]):
    jinja2 = heavy.jinja2()
    loader = jinja2.FileSystemLoader([str(path) for path in template_dirs])
    env = jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=True)
    env.filters["url"] = lambda rel: relative_url("", rel)  # an output path, seen from the output's root
    env.filters["relative_url"] = dot_relative  # any relative URL a template builds
    return env


class Renderer:
    """Renders the pages of one site; returns ``(output relative path, bytes)`` pairs."""

    def __init__(self, template_dirs: list[Path], site: dict, viewer, extra_vars=None) -> None:
        self.env = environment(template_dirs)
        self.site = site  # title, viewer options
        self.viewer = viewer  # assets.ViewerAssets
        self.extra_vars = extra_vars  # template name -> plugins' variables (``extra_template_vars``)

    def _common(self, folder: str) -> dict:
        root = relative_url(folder, "")
        osd = self.viewer
        script = osd.script if osd.external else root + osd.script
        images = osd.images if osd.external else root + osd.images
        return {
            "site": self.site,
            "root": root,
            "osd": {"script": script, "images": images, "integrity": osd.integrity,
                    "scripts": [root + src for src in osd.scripts]},
        }

    def render(self, template: str, folder: str, **context) -> tuple[str, bytes]:
        extra = self.extra_vars(template) if self.extra_vars else {}
        try:  # dzbuild's own variables win over a plugin's of the same name, so a plugin cannot break a page
            html = self.env.get_template(template).render({**extra, **self._common(folder), **context})
        except Exception as exc:  # a site's own template is code its author wrote: one line about it
            raise template_error(exc, template, self.env.loader.searchpath) from None
        return (f"{folder}/{PAGE}" if folder else PAGE), html.encode("utf-8")

    def image_page(self, image: ImageInfo) -> tuple[str, bytes]:
        thumb, _, _ = image.thumbnail()
        versions = [
            {"number": n, "url": _option(image.tile_source(n)), "source": image.tile_source(n),
             "changes": changes_url(n) if n else None}
            for n in image.available
        ]  # fmt: skip
        common = self._common(image.rel)
        page = {  # what dzbuild-image.js reads
            "title": image.title,
            "width": image.width,
            "height": image.height,
            "tileSize": image.tile_size,
            "versions": versions,
            "prefixUrl": common["osd"]["images"],
            "options": self.site["viewer_options"],
        }
        return self.render(
            "image.html", image.rel, image=image, versions=versions, thumbnail=dot_relative(thumb), page=page,
            tile_source=image.tile_source(),
        )

    def collection_page(self, collection: CollectionInfo) -> tuple[str, bytes]:
        """A collection's first page (the only one up to ``listing.GALLERY_SIZE`` members)."""
        return self.collection_pages(collection)[0]

    def collection_pages(self, collection: CollectionInfo) -> list[tuple[str, bytes]]:
        """Every page of a collection: its viewer, and its gallery a slice at a time."""
        pages = []
        for page in listing.gallery(collection):
            folder = page.folder
            here = collection
            if collection.descriptor and page.number > 1:  # the .dzc, seen from this page's folder
                dzc = PurePosixPath(collection.path, collection.descriptor.removeprefix("./")).as_posix()
                here = replace(collection, descriptor=relative_url(folder, dzc))
            items = [_item(folder, image) for image in page.images]
            pager = _pager(page, len(collection.members))
            pages.append(self.render("collection.html", folder, collection=here, items=items, pager=pager))
        return pages

    def not_found_page(self, base_path: str) -> tuple[str, bytes]:
        """``404.html``, served at whatever URL was missing: its links start from the absolute ``base_path``."""
        _, html = self.render(NOT_FOUND, "", root=base_path)
        return NOT_FOUND, html

    def index_page(self, images: list[ImageInfo], collections: list[CollectionInfo]) -> tuple[str, bytes]:
        """The index's first page (the only one up to ``listing.PAGE_SIZE`` images)."""
        return self.index_pages(images, collections)[0]

    def index_pages(self, images: list[ImageInfo], collections: list[CollectionInfo]) -> list[tuple[str, bytes]]:
        """Every page of the index, then the JSON list of every image that its filter searches."""
        everything = [_item("", image) for image in images]
        pages = [self._index_page(page, images, collections) for page in listing.split(images)]
        return [*pages, (listing.LIST_FILE, listing.list_document(everything))]

    def _index_page(self, page: listing.IndexPage, images, collections) -> tuple[str, bytes]:
        folder = page.folder
        groups = [
            {
                "collection": c,
                "url": relative_url(folder, c.path) + "/",
                "count": len(c.members),
                "thumbnails": [_item(folder, image) for image in c.members[: _mosaic_size(len(c.members))]],
            }
            for c in (collections if page.number == 1 else [])  # the collections' cards: on the first page
        ]
        pager = {**_pager(page, len(images)), "list": relative_url(folder, listing.LIST_FILE)}
        entries = [_item(folder, image) for image in page.images]
        return self.render("index.html", folder, images=entries, collections=groups, pager=pager)


def check_templates(template_dirs: list[Path]) -> None:
    """Compile every template and find every template it names, before any tile work: a typo in a
    site's own template fails the build at once, not after its pyramids."""
    jinja2 = heavy.jinja2()
    env = environment(template_dirs)
    for name in env.list_templates(extensions=["html"]):
        try:
            source, filename, _ = env.loader.get_source(env, name)
            for referenced in jinja2.meta.find_referenced_templates(env.parse(source, name, filename)):
                if referenced is not None:
                    env.get_template(referenced)
        except jinja2.TemplateError as exc:
            raise template_error(exc, name, env.loader.searchpath) from None


def template_error(exc: Exception, template: str, searchpath: list[str]) -> ConfigError:
    """A broken, missing or failing template as a configuration error naming the file and the line."""
    jinja2 = heavy.jinja2()
    line = f"line {exc.lineno}: " if getattr(exc, "lineno", None) else ""
    if isinstance(exc, jinja2.TemplateNotFound):
        return ConfigError(f"template {exc.name!r} not found (rendering {template})", searchpath[0])
    where = getattr(exc, "filename", None) or next(
        (f"{folder}/{template}" for folder in searchpath if Path(folder, template).is_file()), template
    )
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else f"{type(exc).__name__}: {exc}"
    return ConfigError(f"{line}template error: {message}", where)


def _mosaic_size(members: int) -> int:
    """How many member thumbnails a collection's card shows: a full 2x2 or 2x1 mosaic, or one."""
    return 4 if members >= 4 else min(2, members)


def _pager(page: listing.IndexPage, total: int) -> dict:
    """What a page's links to the other pages of its list need (templates/_pages.html)."""
    folder = page.folder

    def url(number: int) -> str:
        target = listing.page_folder(number, page.home, page.further)
        return relative_url(folder, target) + ("/" if target else "")

    return {
        "number": page.number,
        "count": page.count,
        "first": page.first + 1,
        "last": page.first + len(page.images),
        "total": total,
        "links": [{"number": n, "url": url(n)} if n else None for n in listing.page_numbers(page.number, page.count)],
        "previous": url(page.number - 1) if page.number > 1 else None,
        "next": url(page.number + 1) if page.number < page.count else None,
    }


def _item(folder: str, image: ImageInfo) -> dict:
    """One image as seen from a page in ``folder``: its page, its latest DZI and its thumbnail."""
    thumb, width, height = image.thumbnail()
    base = relative_url(folder, image.rel)
    return {
        "key": image.rel,
        "title": image.title,
        "url": base + "/",
        "dzi": f"{base}/{image.descriptor(fmt=deep_zoom())}",  # collections show their members' Deep Zoom images
        "thumbnail": f"{base}/{thumb}",
        "thumb_width": width,
        "thumb_height": height,
        "width": image.width,
        "height": image.height,
        "versions": image.versions,
    }


def _option(source) -> str:
    """A version picker's value: a URL as it is, a tile source object as JSON (the page parses it)."""
    return source if isinstance(source, str) else json.dumps(source, sort_keys=True)

"""The mkdocs plugin: ``plugins: [dzbuild]`` in ``mkdocs.yml``, then ``![Alt](zoom/harbour/)`` in a page.

An image whose target is an image folder (a folder with a ``pyramid.json``) becomes an inline
viewer; everything else in the Markdown is left alone. Image folders sit inside ``docs_dir``
(their source tiles are kept out of the site) or under ``source``, shown at ``prefix`` in the site.
Pyramids are built in ``cache`` and linked into ``site_dir`` on every build; ``mkdocs serve``
watches ``source`` too, and a rebuild computes only the tiles of new versions.
"""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path
from urllib.parse import unquote

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from ..embed import EMBED_SCRIPT, attributes_html, render_embed, script_attributes
from ..errors import DzbuildError
from ..site.pages import url_path
from ..site.scan import SiteImage
from .engine import Built, build_images, find_images, integration_config, write_report
from .keep import owned_paths, put_back, remember, set_aside
from .markdown import page_url_dir, relative_url, replace_images, resolve

log = logging.getLogger("mkdocs.plugins.dzbuild")
VERSION = re.compile(r"v[0-9]+")
# mkdocs writes extra_javascript as <script src="...">: ours gains the attributes that name OpenSeadragon.
SCRIPT = re.compile(r'(<script\b[^>]*\bsrc="[^"]*' + re.escape(EMBED_SCRIPT) + '")')


class DzbuildConfig(Config):
    source = opt.Optional(opt.Type(str))  # folder of image folders; default docs_dir
    prefix = opt.Type(str, default="")  # the folder of site_dir (and of links) where source's images appear
    cache = opt.Type(str, default=".dzbuild/mkdocs")  # beside mkdocs.yml; never inside site_dir
    height = opt.Optional(opt.Type(str))  # a CSS height for every viewer; default the image's aspect ratio
    jobs = opt.Optional(opt.Type(int))
    openseadragon = opt.Choice(("local", "cdn"), default="local")
    viewer_options = opt.Type(dict, default={})  # passed to OpenSeadragon as they are
    templates = opt.Optional(opt.Type(str))  # a folder whose _embed.html replaces dzbuild's


class DzbuildPlugin(BasePlugin[DzbuildConfig]):
    def __init__(self) -> None:
        self.built: Built | None = None
        self.root = self.source = self.cache = None
        self.in_docs, self.prefix, self.templates = True, "", None

    def on_config(self, config):
        self.root = Path(config.config_file_path or ".").resolve().parent
        self.source = self.root / self.config.source if self.config.source else Path(config.docs_dir)
        self.source = self.source.resolve()
        self.cache = (self.root / self.config.cache).resolve()
        self.templates = self.root / self.config.templates if self.config.templates else None
        if not self.source.is_dir():
            raise PluginError(f"dzbuild: 'source' is not a folder: {self.source}")
        docs = Path(config.docs_dir).resolve()
        self.in_docs = self.source == docs or docs in self.source.parents
        own = self.source.relative_to(docs).as_posix().strip(".") if self.in_docs else None
        if own is not None and self.config.prefix.strip("/") not in ("", own):
            raise PluginError(f"dzbuild: 'prefix' must be empty for a source inside docs_dir ({self.source})")
        self.prefix = own if own is not None else self.config.prefix.strip("/")
        config.extra_javascript.append(EMBED_SCRIPT)
        return config

    def on_pre_build(self, config):
        """Before mkdocs empties site_dir: set the pyramids aside, so they need not be linked again."""
        site_dir = Path(config.site_dir).resolve()
        if self.cache == site_dir or site_dir in self.cache.parents:
            raise PluginError(f"dzbuild: 'cache' must be outside site_dir: {self.cache}")
        set_aside(site_dir, self.cache)

    def on_files(self, files, config):
        """Build every pyramid into site_dir, and keep the image folders' own files out of the site."""
        site_dir = Path(config.site_dir).resolve()
        try:
            site = integration_config(
                self.root, self.source, site_dir, self.cache,
                jobs=self.config.jobs, cdn=self.config.openseadragon == "cdn",
            )
            # Keyed by their path below docs_dir, as pages link them.
            images = [SiteImage(f"{self.prefix}/{image.rel}".lstrip("/"), image.source) for image in find_images(site)]
            put_back(self.cache, site_dir, owned_paths([image.rel for image in images], site.formats))
            self.built = build_images(site, tuple(images))
        except DzbuildError as error:
            raise PluginError(f"dzbuild: {error}") from None
        remember(self.cache, owned_paths(self.built.images, site.formats))
        write_report(self.cache, self.built.report)
        _log_report(self.built)
        if self.in_docs:
            folders = tuple(rel + "/" for rel in self.built.images)
            for file in [f for f in files if f.src_uri.startswith(folders)]:
                files.remove(file)
        return files

    def on_serve(self, server, config, builder):
        if not self.in_docs:  # docs_dir is watched already
            server.watch(str(self.source))
        return server

    def on_page_markdown(self, markdown, page, config, files):
        src_dir = os.path.dirname(page.file.src_uri)
        url_dir = page_url_dir(unquote(page.url))

        def embed(target: str, alt: str, title: str | None) -> str | None:
            key, version = _image_version(resolve(target, src_dir), self.built.images if self.built else {})
            if key is None:
                return None
            image = self.built.images[key]
            if version is not None and version not in image.available:
                raise PluginError(f"dzbuild: {page.file.src_uri}: {key} has no published version v{version}")
            return render_embed(  # Markdown reads entities in alt and title text: &amp; is one "&"
                image, url_path(relative_url(url_dir, key)) + "/", html.unescape(alt), self.config.height,
                viewer=self.built.viewer, root=_root_url(url_dir), caption=title and html.unescape(title),
                version=version, options=self.config.viewer_options, templates=self.templates,
            )

        return replace_images(markdown, embed)

    def on_post_page(self, output, page, config):
        """dzbuild-viewer.js loads OpenSeadragon from the URL its own <script> element names."""
        if self.built is None:
            return output
        attributes = attributes_html(script_attributes(self.built.viewer, EMBED_SCRIPT.rsplit("/", 1)[0]))
        return SCRIPT.sub(lambda match: match.group(1) + attributes, output, count=1)


def _image_version(path: str | None, images: dict) -> tuple[str | None, int | None]:
    """``(image key, None)`` for an image folder, ``(key, n)`` for its ``v{n}`` folder, else ``(None, None)``."""
    if path in images:
        return path, None
    parent, _, name = (path or "").rpartition("/")
    if parent in images and VERSION.fullmatch(name):
        return parent, int(name[1:])
    return None, None


def _root_url(url_dir: str) -> str:
    rel = relative_url(url_dir, "")
    return url_path(rel) + "/" if rel else ""


def _log_report(built: Built) -> None:
    report = built.report
    if report.tiles_computed or report.versions_built:
        log.info(
            "dzbuild: %d image(s), %d version(s) built: %d tiles computed, %d linked",
            report.images, report.versions_built, report.tiles_computed, report.tiles_linked,
        )
    else:
        log.debug("dzbuild: %d image(s), nothing new", report.images)

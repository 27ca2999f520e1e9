"""The Sphinx extension: ``.. deepzoom:: zoom/harbour`` (or ```` ```{deepzoom} zoom/harbour ```` in MyST).

The path is relative to the document, like ``.. image::``; options ``height``, ``version``, ``alt`` and
``caption``. Reading a document builds its images' pyramids in the cache (``dzbuild_cache``, beside
``conf.py``); HTML builders get the viewer and the pyramids under ``OUTPUT/_dzbuild/images/``, other
builders (LaTeX, epub, text) the image's thumbnail as a plain figure. A document is read again only when
one of its image folders gained a version, and a rebuild with nothing new does no tile work.
"""

from __future__ import annotations

import os
import time
from pathlib import Path, PurePosixPath

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..embed import EMBED_SOURCE, render_embed, script_attributes
from ..errors import DzbuildError, LockedError
from ..site.assets import install_viewer
from ..site.build import SiteReport
from ..site.pages import ImageInfo, url_path
from ..site.scan import SiteImage
from .engine import build_images, integration_config, write_report
from .markdown import page_url_dir, relative_url

IMAGES = "_dzbuild/images"  # below the HTML output: one folder per image, keyed by its path from srcdir
TALLY = ("versions_built", "tiles_computed", "tiles_linked")  # what a report adds up across readers
LOCK_WAIT = 600.0  # seconds a reader waits for another one holding the cache
INFO_FIELDS = ("rel", "width", "height", "tile_size", "format", "versions", "available")
log = logging.getLogger(__name__)


class deepzoom(nodes.General, nodes.Element):  # noqa: N801 - docutils names nodes in lower case
    """An inline viewer; its child figure (the thumbnail) is what builders without a viewer show."""


class DeepZoom(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        "height": directives.unchanged,
        "version": directives.nonnegative_int,
        "alt": directives.unchanged,
        "caption": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        rel, folder = self.env.relfn2path(self.arguments[0], self.env.docname)
        key = _key(rel)
        if not (Path(folder) / "pyramid.json").is_file():
            raise self.error(f"deepzoom: not an image folder (no pyramid.json): {folder}")
        try:
            info = _build(self.env.app, {key: Path(folder)}, _cache(self.env.app) / "read", _tally(self.env))[key]
        except DzbuildError as error:
            raise self.error(f"deepzoom: {error}") from None
        version = self.options.get("version")
        if version is not None and version not in info.available:
            raise self.error(f"deepzoom: {folder} has no published version v{version}")
        self.env.note_dependency(str(Path(folder) / "pyramid.json"))
        _images(self.env)[key] = (str(folder), _signature(Path(folder)))
        _docs(self.env).setdefault(self.env.docname, set()).add(key)
        node = deepzoom(key=key, info={f: getattr(info, f) for f in INFO_FIELDS}, **self.options)
        node += self._thumbnail_figure(info, key, version)
        return [node]

    def _thumbnail_figure(self, info: ImageInfo, key: str, version: int | None) -> nodes.figure:
        thumb, _, _ = info.thumbnail()
        number = info.latest if version is None else version
        path = _cache(self.env.app) / "tree" / IMAGES / key / thumb.replace(f"/v{info.latest}/", f"/v{number}/", 1)
        uri = "/" + Path(os.path.relpath(path, self.env.srcdir)).as_posix()  # "/" means from srcdir to Sphinx
        figure = nodes.figure()
        figure += nodes.image(uri=uri, alt=self.options.get("alt") or info.title)
        if self.options.get("caption"):
            figure += nodes.caption(text=self.options["caption"])
        return figure


def _key(rel: str) -> str:
    """An image's key: its path from srcdir, with ``..`` spelled so that it stays below the output."""
    return "/".join("_up" if part == ".." else part for part in PurePosixPath(Path(rel).as_posix()).parts)


def _signature(folder: Path) -> list:
    """Changes when a version folder is added or removed, or pyramid.json is edited."""
    names = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir() and entry.name.startswith("v"))
    return [names, (folder / "pyramid.json").stat().st_mtime_ns]


def _images(env) -> dict:
    if not hasattr(env, "dzbuild_images"):
        env.dzbuild_images = {}  # key: (folder, signature)
    return env.dzbuild_images


def _docs(env) -> dict:
    if not hasattr(env, "dzbuild_docs"):
        env.dzbuild_docs = {}  # docname: {key, ...}
    return env.dzbuild_docs


def _cache(app) -> Path:
    return (Path(app.confdir) / app.config.dzbuild_cache).resolve()


def _config(app, output: Path):
    cdn = app.config.dzbuild_openseadragon == "cdn"
    return integration_config(Path(app.confdir), Path(app.srcdir), output, _cache(app), cdn=cdn)


def _build(app, folders: dict[str, Path], output: Path, tally: dict) -> dict[str, ImageInfo]:
    """Build ``folders`` (key: image folder) and link them into ``output``; add the work to ``tally``.

    Parallel readers (``sphinx-build -j``) build one at a time: a reader that finds the cache
    locked waits for the other, then finds the pyramid built.
    """
    images = tuple(SiteImage(f"{IMAGES}/{key}", folder) for key, folder in folders.items())
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            built = build_images(_config(app, output), images)
            break
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    for name in TALLY:
        tally[name] = tally.get(name, 0) + getattr(built.report, name)
    return {image.rel[len(IMAGES) + 1 :]: built.images[image.rel] for image in images}


def _tally(env) -> dict:
    """The work this run's readers did; merged across parallel readers with the rest of the env."""
    if not hasattr(env, "dzbuild_tally"):
        env.dzbuild_tally = {}
    return env.dzbuild_tally


def env_before_read_docs(app, env, docnames) -> None:
    env.dzbuild_tally = {}


def _is_viewer_builder(builder) -> bool:
    return builder.format == "html" and not builder.name.startswith("epub")


def builder_inited(app) -> None:
    app.dzbuild_viewer = None
    if _is_viewer_builder(app.builder):
        try:
            app.dzbuild_viewer, _ = install_viewer(_config(app, Path(app.outdir)))
        except DzbuildError as error:
            raise ExtensionError(f"dzbuild: {error}") from None
        _add_script(app, app.dzbuild_viewer)


def _add_script(app, viewer) -> None:
    """dzbuild-viewer.js, from ``_static/``, told where OpenSeadragon is (relative to the script)."""
    app.add_js_file(EMBED_SOURCE.name, **script_attributes(viewer, "_static"))


def env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """Documents whose image folders changed since they were read: read them again."""
    stale = set()
    for key, (folder, signature) in list(_images(env).items()):
        try:
            now = _signature(Path(folder))
        except OSError:
            now = None
        if now != signature:
            stale.add(key)
    return [doc for doc, keys in _docs(env).items() if keys & stale and doc not in removed]


def env_purge_doc(app, env, docname) -> None:
    _docs(env).pop(docname, None)


def env_merge_info(app, env, docnames, other) -> None:
    _images(env).update(_images(other))
    for name, count in _tally(other).items():
        _tally(env)[name] = _tally(env).get(name, 0) + count
    for doc in docnames:
        if doc in _docs(other):
            _docs(env)[doc] = _docs(other)[doc]


def build_finished(app, exception) -> None:
    """HTML: every image a document shows gets its pyramid in the output (links, no tile work)."""
    if exception is not None:
        return
    tally = dict(_tally(app.env))
    if _is_viewer_builder(app.builder):
        used = set().union(*_docs(app.env).values()) if _docs(app.env) else set()
        folders = {key: Path(folder) for key, (folder, _) in _images(app.env).items() if key in used}
        if folders:
            _build(app, folders, Path(app.outdir), tally)
    report = SiteReport(str(app.srcdir), str(app.outdir), len(_images(app.env)), **tally)
    write_report(_cache(app), report)
    if report.tiles_computed:
        log.info(f"dzbuild: {report.versions_built} version(s) built, {report.tiles_computed} tiles computed")


def visit_html(self, node: deepzoom) -> None:
    if not _is_viewer_builder(self.builder):
        return  # epub: the thumbnail figure
    info = ImageInfo(**node["info"])
    page = self.builder.get_target_uri(self.builder.current_docname)
    url_dir = page_url_dir(page)
    prefix = url_path(relative_url(url_dir, f"{IMAGES}/{node['key']}")) + "/"
    root = relative_url(url_dir, "")
    self.body.append(
        render_embed(
            info, prefix, node.get("alt") or info.title, node.get("height"),
            viewer=self.builder.app.dzbuild_viewer, root=url_path(root) + "/" if root else "",
            version=node.get("version"), caption=node.get("caption"),
            options=self.builder.config.dzbuild_viewer_options, templates=_templates(self.builder.app),
        )
    )
    raise nodes.SkipNode


def _templates(app) -> Path | None:
    folder = app.config.dzbuild_templates
    return Path(app.confdir) / folder if folder else None


def visit_children(self, node: deepzoom) -> None:
    pass


def depart_children(self, node: deepzoom) -> None:
    pass


def setup(app) -> dict:
    app.add_config_value("dzbuild_cache", ".dzbuild/sphinx", "env")  # relative to conf.py; outside the output
    app.add_config_value("dzbuild_openseadragon", "local", "html")  # or "cdn"
    app.add_config_value("dzbuild_viewer_options", {}, "html")  # passed to OpenSeadragon as they are
    app.add_config_value("dzbuild_templates", None, "html")  # a folder whose _embed.html replaces dzbuild's
    passthrough = (visit_children, depart_children)
    app.add_node(deepzoom, html=(visit_html, depart_children), latex=passthrough, text=passthrough,
                 man=passthrough, texinfo=passthrough)
    app.add_directive("deepzoom", DeepZoom)
    app.connect("builder-inited", builder_inited)
    app.connect("env-before-read-docs", env_before_read_docs)
    app.connect("env-get-outdated", env_get_outdated)
    app.connect("env-purge-doc", env_purge_doc)
    app.connect("env-merge-info", env_merge_info)
    app.connect("build-finished", build_finished)
    app.connect("config-inited", _static_path)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}


def _static_path(app, config) -> None:
    """dzbuild-viewer.js reaches ``_static/`` as a static file of the extension."""
    config.html_static_path = [*config.html_static_path, str(EMBED_SOURCE.parent)]

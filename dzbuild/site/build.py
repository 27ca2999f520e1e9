"""``dzbuild build SITE``: the straight pipeline from a site folder to a folder ready to deploy.

Pyramids and their state live in the cache (``CACHE/tree/REL``); the output gets the same tree
without the state, plus the viewer pages, OpenSeadragon, ``_headers`` and ``_redirects``. Every
generated file is written only when its bytes change, so a rerun with nothing new leaves the
output untouched (mtimes included) and does no tile work.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..collection import build_collection
from ..io.files import write_if_changed
from ..io.lock import locked
from ..plugins import registry
from ..pyramid.build import build_pyramid
from ..pyramid.sources import version_number
from ..pyramid.spec import load_spec
from ..pyramid.state import STATE_DIR
from . import collections as colls
from .assets import copy_theme_assets, install_viewer
from .changes import write_changes
from .config import CONFIG_FILE, SiteConfig, load_config
from .datafile import write_data_file
from .headers import render_headers, site_rules
from .hooks import site_built, template_dirs, template_vars
from .hostlimits import check_limits, measure
from .journal import Journal, open_journal, record_images, unchanged_images
from .manifests import place_manifests
from .mirror import add_version, mirror_tree, remove_empty_parents, remove_stale, sweep_output
from .packcount import PACK_FORMAT, packed_site_files
from .pages import PAGE, CollectionInfo, ImageInfo, Renderer, dot_relative
from .paths import check_written_places, read_control_file
from .progress import Progress
from .redirects import latest_files, render_redirects
from .scan import check_specs, require_images, scan_site
from .spread import build_images, check_formats, image_options, site_executor
from .thumbnail import write_thumbnail

TREE = "tree"  # CACHE/tree mirrors the output's layout, with the build state beside each pyramid
OWNED_FILE = "site.json"  # CACHE/site.json: the output paths the last build wrote


@dataclass
class SiteReport:
    site: str
    output: str
    images: int = 0
    collections: int = 0
    versions_built: int = 0
    tiles_computed: int = 0
    tiles_linked: int = 0
    files_written: int = 0
    output_files: int = 0
    output_bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    built: list[dict] = field(default_factory=list)  # the images and collections that did work
    executor: str | None = None  # what ran the work units, and its workers (None: never started)
    workers: int | None = None

    def summary(self) -> dict:
        """The machine-readable form printed by ``--json``."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def build_site(
    root: Path | str,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: str | None = None,
    executor=None,
    defer_output: bool = False,
) -> SiteReport:
    """Build the site at ``root`` as ``dzbuild build`` does, then fire the ``site_built`` hook.

    Returns a ``SiteReport`` whose ``summary()`` is what ``--json`` prints; warnings (host limits,
    headers) are collected into its ``warnings``, not raised. ``executor``: ``NAME[://ADDRESS]``, or
    for ``dzbuild serve`` its fork pool, kept open across builds (its workers stay warm); ``defer_output``
    builds pyramids and pages but leaves new version folders out of the output, unmeasured and
    unannounced (the preview serves them from the cache and builds again at once to link them).
    """
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config, report = _build(Path(root), rebuild, jobs, progress, executor, defer_output)
    report.warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    report.seconds = time.perf_counter() - started
    if not defer_output:
        site_built(config, config.output, report.summary())  # 10. plugins act on the complete output
    return report


def _build(
    root: Path, rebuild: bool, jobs: int | None, progress_mode: str | None, executor=None, defer_output=False
) -> tuple[SiteConfig, SiteReport]:
    config = load_config(root)  # 1. dzbuild.toml or [tool.dzbuild]
    if jobs is not None:
        config = replace(config, jobs=jobs)
    found = scan_site(config.source, skip=(config.output, config.cache))  # 2. images and collection files
    require_images(found, config.source)
    journal = open_journal(config, rebuild)  # what the last build saw: a pyramid.json it read unchanged is valid
    check_specs(journal.specs_to_check(found.images), config.tile_defaults)  # a broken one stops the build now
    declared = config.collections + tuple(colls.load_collection_file(f, config.source) for f in found.collection_files)
    colls.check_paths(declared, found.images, config.formats)
    for collection in declared:  # a collection naming a missing image fails before anything is built
        colls.resolve_members(collection, found.images)
    check_written_places(config, found.images, declared, config.file or config.root / CONFIG_FILE)
    for control in (config.headers_file, config.redirects_file):  # unreadable: refused before any tile work
        if control is not None:
            read_control_file(control)
    report = SiteReport(str(config.root), str(config.output), len(found.images), len(declared))
    with locked(config.cache):  # one site build at a time
        owned_before = _read_owned(config.cache)
        if rebuild:
            _discard(config, owned_before)
        check_formats(config, found.images)  # a format that refuses the configuration fails before any output
        viewer, written = install_viewer(config)  # 3. fails fast when OpenSeadragon is missing
        unchanged = unchanged_images(journal, config, found.images, tree(config))  # nothing they depend on moved
        progress = Progress(len(found.images) + len(declared), progress_mode)
        # One executor for the whole site, started only when some image has work: a worker imports
        # OpenCV once, not once per image.
        with site_executor(config, executor, report) as executor:  # a choice (or dzbuild.toml's), or serve's pool
            try:
                storage = None if defer_output else registry().get("storage", config.storage)
                one = lambda image, whole: build_image(config, image, report, progress, executor, storage, whole)  # noqa: E731
                changed = [image for image in found.images if image.rel not in unchanged]
                built = {info.rel: info for info in build_images(config, changed, executor, tree(config), one)}  # 4.
                for rel in unchanged:
                    progress.step(rel, None)
                images = [unchanged.get(image.rel) or built[image.rel] for image in found.images]
                by_rel = {info.rel: info for info in images}
                groups = [  # 5.
                    _build_collection(config, c, found, by_rel, report, progress, executor, storage) for c in declared
                ]
            finally:
                progress.close()
        # An image's format folders, not the image's folder: that may hold the site's own files.
        owned = set(written) | {f"{info.rel}/{fmt}" for info in images for fmt in config.formats}
        owned |= {f"{info.rel}/{info.thumbnail()[0]}" for info in images if "/" not in info.thumbnail()[0]}
        formats = {name: registry().get("format", name) for name in config.formats}
        manifests, count = place_manifests(config, images, groups, formats)  # IIIF, of images and collections
        owned |= manifests
        report.files_written += count
        pages, rendered = _write_pages(config, viewer, images, groups, report, journal)  # 6. pages and theme assets
        owned |= pages
        _write_control_files(config, viewer, images, groups, report)  # 7. _headers and _redirects
        report.files_written += write_data_file(config, viewer, images, groups, formats)  # for a site generator
        if config.host == "github-pages":  # its Jekyll step would otherwise drop _dzbuild/ (a leading "_")
            report.files_written += write_if_changed(config.output / ".nojekyll", b"")
            owned.add(".nojekyll")
        _prune(config, owned_before, owned, {info.rel for info in images})  # 8. what an earlier build left
        controls = [path.parent for path in (config.headers_file, config.redirects_file) if path is not None]
        settled = _settled_paths(config, unchanged, rendered)  # their folders hold no leftover: unchanged since
        sweep_output(config.output, (owned_before | owned) - settled, [config.cache, tree(config), *controls])
        _write_owned(config.cache, owned)
        if defer_output:  # new versions are not in the output yet: the journal keeps the last complete build
            return config, report
        known = record_images(journal, config, viewer, images, unchanged, rendered, tree(config))
        journal.save()
    stats = measure(config.output, known)  # 9. the host's limits, counting unchanged images from the journal
    report.output_files, report.output_bytes = stats.on_disk, stats.bytes
    packed = None if config.formats == (PACK_FORMAT,) else (  # what packs would make of it, asked when too many
        lambda: packed_site_files(stats.files, config.output, tree(config), images, formats.values())
    )
    check_limits(stats, config.host, packed)
    return config, report


def tree(config: SiteConfig) -> Path:
    return config.cache / TREE


def _settled_paths(config: SiteConfig, unchanged: dict, rendered: set[str]) -> set[str]:
    """Output paths of unchanged images (their folders' identities matched: no leftover was added)."""
    return {
        f"{rel}/{name}" for rel in unchanged if rel not in rendered for name in (PAGE, *config.formats)
    }  # fmt: skip


def build_image(config: SiteConfig, image, report: SiteReport, progress: Progress, executor, storage, whole=None):
    """Build an image's new versions in the cache (or take a worker's, in ``whole``); link them unless no storage."""
    dest, options = tree(config) / image.rel, image_options(config, image.rel)
    result = whole.report(image.rel) if whole else build_pyramid(image.source, dest, options, executor=executor)
    # Only the published formats: anything else in dest (state, an overlap build's core/ store) stays in the cache.
    added = sum(mirror_tree(dest / fmt, config.output / image.rel / fmt, storage) for fmt in config.formats if storage)
    _tally(report, result)
    message = None
    if result.versions:
        built = ", ".join(f"v{v.version}" for v in result.versions)
        message = f"built {built}: {result.computed} tiles computed, {result.linked} linked in {result.seconds:.2f} s"
    elif added:
        message = f"linked {added} version folder(s) into the output"
    progress.step(image.rel, message)
    spec = load_spec(image.source, config.tile_defaults)
    count = result.published_before + len(result.versions)
    formats = tuple(registry().get("format", name) for name in config.formats)  # in build order: the home first
    available = tuple(sorted(n for n in map(version_number, os.listdir(dest / formats[0].name)) if n is not None))
    write_changes(dest, config.output / image.rel, spec.grid, available)  # the compare view's overlay
    if storage:  # packs only: a plain file for index cards
        write_thumbnail(dest, config.output / image.rel, spec, formats[0], available[-1])
    viewer = registry().get("format", config.viewer.format)
    return ImageInfo(
        image.rel, spec.width, spec.height, spec.tile_size, spec.format, count,
        available=available, formats=formats, viewer=viewer, overlap=spec.overlap,
    )  # fmt: skip


def _tally(report: SiteReport, result) -> None:
    """Add an image's or a collection's build report to the site's totals."""
    report.versions_built += len(result.versions)
    report.tiles_computed += result.computed
    report.tiles_linked += result.linked
    if result.versions:
        report.built.append(result.summary())


def _build_collection(
    config, collection, found, by_rel, report: SiteReport, progress: Progress, executor, storage
) -> CollectionInfo:
    """Build a collection after its members."""
    members = colls.resolve_members(collection, found.images)
    info = CollectionInfo(collection.name, collection.title, collection.path, None, [by_rel[m.rel] for m in members])
    out_dir = tree(config) / collection.path
    result = build_collection(
        out_dir,
        collection.name,
        [(m.rel, tree(config) / m.rel) for m in members],
        tile_size=collection.tile_size,
        max_level=collection.max_level,
        quality=collection.quality,
        storage=config.storage,
        executor=executor,
    )
    if storage is not None:
        _mirror_collection(out_dir, config.output / collection.path, storage)
    if result.latest_descriptor is not None:
        info.descriptor = dot_relative(Path(os.path.relpath(result.latest_descriptor, out_dir)).as_posix())
    _tally(report, result)
    message = None
    if result.versions:
        message = f"collection v{result.versions[-1].version}: {result.computed} tiles computed, {result.linked} linked"
    progress.step(collection.path, message)
    return info


def _mirror_collection(out_dir: Path, target: Path, storage) -> None:
    """Only the collection's own version folders: member images below it are mirrored on their own."""
    for entry in sorted(out_dir.iterdir()):
        if entry.is_dir() and version_number(entry.name) is not None:
            add_version(entry, target / entry.name, storage)


def _write_pages(config, viewer, images, groups, report: SiteReport, journal: Journal) -> tuple[set[str], set[str]]:
    """Render every page whose inputs changed (written only when its bytes change); return the output
    paths the pages own and the images whose page was rendered."""
    dirs = template_dirs(config.templates)  # the site's, each plugin's, then the built-in templates
    site = {"title": config.title, "viewer_options": config.viewer.options}
    renderer = Renderer(dirs, site, viewer, extra_vars=lambda template: template_vars(template, config))
    current = {info.rel for info in images if journal.page_is_current(info, viewer)}
    pages = [renderer.image_page(info) for info in images if info.rel not in current]
    rendered = {info.rel for info in images} - current
    pages += [page for group in groups for page in renderer.collection_pages(group)]  # a gallery in pages
    pages += renderer.index_pages(images, groups)  # the index, split into pages, and the list its filter reads
    pages.append(renderer.not_found_page(config.base_path))  # a missing URL gets a 404, never the index
    pages += latest_files(config, images)  # latest/ descriptors, where the host cannot redirect every image
    owned = set()
    for rel, data in pages:
        report.files_written += write_if_changed(config.output / rel, data)
        owned.add(rel)
    for group in groups:
        versions = (p for p in (config.output / group.path).glob("v*") if version_number(p.name) is not None)
        owned |= {f"{group.path}/{p.name}" for p in versions}
    owned |= set(copy_theme_assets(dirs, config.output))
    return owned | {f"{rel}/{PAGE}" for rel in current}, rendered


def _write_control_files(config, viewer, images, groups, report: SiteReport) -> None:
    """Merge dzbuild's block into ``_headers`` and ``_redirects``, keeping the site's own lines."""
    base = config.base_path
    if config.headers_file is not None:
        required, optional = site_rules(base, images, groups, config.output, config.formats, not viewer.external)
        text = render_headers(read_control_file(config.headers_file), required, optional, config.host)
        report.files_written += write_if_changed(config.headers_file, text.encode("utf-8"))
    if config.redirects_file is not None:
        text = render_redirects(read_control_file(config.redirects_file), base, images, config.host)
        report.files_written += write_if_changed(config.redirects_file, text.encode("utf-8"))


def _prune(config: SiteConfig, before: set[str], now: set[str], images: set[str]) -> None:
    """Remove output paths (and cached pyramids) of images and pages that no longer exist: only what
    dzbuild wrote; a folder it emptied goes too, one holding the site's own files stays."""
    stale = {rel for rel in before - now if not any(keep.startswith(rel + "/") for keep in now)}
    for rel in remove_stale(config.output, stale, set()):
        for cached in (tree(config) / rel, (tree(config) / rel).parent):
            image = cached.relative_to(tree(config)).as_posix()
            if image not in images and (cached / STATE_DIR).is_dir():  # a removed image's pyramid
                shutil.rmtree(cached, ignore_errors=True)
        remove_empty_parents(config.output, config.output / rel)


def _discard(config: SiteConfig, owned: set[str]) -> None:
    """``--rebuild``: forget every pyramid and every output path an earlier build wrote."""
    remove_stale(config.output, owned, set())
    shutil.rmtree(tree(config), ignore_errors=True)


def _read_owned(cache: Path) -> set[str]:
    try:
        return set(json.loads((cache / OWNED_FILE).read_text(encoding="utf-8"))["owned"])
    except (FileNotFoundError, ValueError, KeyError):
        return set()


def _write_owned(cache: Path, owned: set[str]) -> None:
    write_if_changed(cache / OWNED_FILE, json.dumps({"owned": sorted(owned)}, indent=1).encode("utf-8"))

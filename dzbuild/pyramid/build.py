"""Build every missing version of one image folder: the straight pipeline behind ``dzbuild pyramid``."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

from ..api import ChecksBuilds, Executor
from ..io.codec import check_tile
from ..io.files import PARTIAL_MARK
from ..io.lock import locked
from ..plugins import capability, registry
from ..run.select import check_paths, default_executor, open_executor, workers_of
from .formats import DEFAULT_FORMATS, resolve_formats, with_tile_store
from .immutability import check_published
from .manifests import write_manifests
from .planner import plan_next
from .publish import VersionReport, publish_format, publish_version
from .renditions import renditions_of
from .sources import scan_version, version_dirs
from .spec import PyramidSpec, load_spec
from .state import STATE_DIR, VACUUM_JOURNAL, State
from .target import CORE_FOLDER, Target
from .vacuum import finish_interrupted

DEFAULT_STORAGE = "hardlink"


class BuildOptions(NamedTuple):
    """How ``build_pyramid`` builds, each option with the default ``dzbuild pyramid`` uses."""

    storage: str = DEFAULT_STORAGE
    resampler: str | None = None  # None: what the published versions used, else DEFAULT_RESAMPLER
    formats: tuple[str, ...] = DEFAULT_FORMATS  # in order by ``resolve_formats``: the first holds the physical tiles
    jobs: int | None = None  # None: every core this process may use
    executor: str | None = None  # NAME or NAME://ADDRESS of a registered executor; None: fork, or inline for one job
    rebuild: bool = False  # discard dest/ and recompute every version
    base_url: str | None = None  # public URL of ``dest``, for formats whose descriptors need one (IIIF)
    spec_defaults: dict | None = None  # a site's [tiles] format/quality, for pyramid.json files that omit them


class VersionTotals:
    """Tiles computed and linked over ``self.versions``: what image and collection reports both sum."""

    versions: list

    @property
    def computed(self) -> int:
        return sum(v.computed for v in self.versions)

    @property
    def linked(self) -> int:
        return sum(v.linked for v in self.versions)


class ImageReport(VersionTotals):
    """What one ``build_pyramid`` call did, for people (CLI lines) and scripts (``summary()``)."""

    def __init__(self, image: str, dest: str, published_before: int) -> None:
        self.image = image
        self.dest = dest
        self.published_before = published_before
        self.versions: list[VersionReport] = []
        self.backfilled: list[str] = []  # "{format}/v{n}" added to published versions
        self.seconds = 0.0
        self.executor, self.workers = None, None  # what ran the work units, when this build opened its own

    def summary(self) -> dict:
        """The machine-readable form printed by ``--json``."""
        return {
            "image": self.image,
            "dest": self.dest,
            "published_before": self.published_before,
            "versions_built": [v.version for v in self.versions],
            "formats_backfilled": self.backfilled,
            "tiles_computed": self.computed,
            "tiles_linked": self.linked,
            "seconds": round(self.seconds, 3),
            **{"executor": self.executor, "workers": self.workers},  # what ran the units (None: nothing did)
        }


def default_dest(image_dir: Path) -> Path:
    return image_dir / "dest"


def build_pyramid(
    image_dir: Path | str,
    dest: Path | str | None = None,
    options: BuildOptions = BuildOptions(),
    executor: Executor | None = None,
) -> ImageReport:
    """Publish every version of ``image_dir`` that ``dest`` (default ``IMAGE_DIR/dest``) lacks, oldest first.

    Returns an ``ImageReport``: ``versions`` (what each new version computed and linked), ``backfilled``
    formats and ``summary()``, the dict ``dzbuild pyramid --json`` prints. A rerun with nothing new
    does no tile work and returns no versions.
    """
    started = time.perf_counter()
    image_dir = Path(image_dir)
    dest = Path(dest) if dest is not None else default_dest(image_dir)
    spec = load_spec(image_dir, options.spec_defaults)  # 1. the strict description of the image
    options = options._replace(formats=with_tile_store(resolve_formats(options.formats)))  # the home format first
    sources = version_dirs(image_dir, dest)  # 2. v0/, v1/... (names only); dest is none of them
    with locked(dest), ExitStack() as stack:  # our own executor (if any) closes before the lock is released
        if options.rebuild:
            check_formats_of(spec, options)  # a rebuild that cannot start must not discard the output first
            _discard(dest)
        state = State(dest)
        running = None
        published = state.published_count()
        if published < len(sources):  # work ahead: start the workers' OpenCV import right now
            running = _executor_for(executor, options, stack, image_dir, dest)
            running.prewarm(_workers_needed(sources[published:], running.jobs, first=published == 0))
        options = _sticky_formats(options, state)
        folders = (*_core_folder(spec), *options.formats)  # the overlap core is renamed first
        state.recover(lambda n: [dest / name / f"v{n}" for name in folders])  # 3. finish or drop a crash
        if (state.dir / VACUUM_JOURNAL).exists():  # ... and finish an interrupted vacuum before building on it
            finish_interrupted(dest)
            state = State(dest)  # the vacuum rewrote records: read them afresh
        published = state.published_count()
        record = state.record(published - 1) if published else None
        report = ImageReport(str(image_dir), str(dest), published)
        resampler, cache = check_published(image_dir, spec, options, sources, state, record)  # 4. immutability
        target = lambda: _target(image_dir, dest, spec, options, resampler)  # noqa: E731 - plugins load on work only
        report.backfilled = _backfill_formats(target, options.formats, state, published)
        if published < len(sources):  # 5. plan and publish each new version
            running = running or _executor_for(executor, options, stack, image_dir, dest)  # recover() may drop one
            _build_versions(target(), sources, state, report, running)
        # 6. documents listing every version (a IIIF manifest): after new versions, and on a rerun of an
        # image with more formats than DZI, which repairs one a crash kept from being rewritten.
        if report.versions or report.backfilled or (record and len(record["formats"]) > 1):
            formats = [registry().get("format", name) for name in options.formats]
            base_url = options.base_url or (record or {}).get("base_url")
            write_manifests(dest, spec, formats, base_url, image_dir.resolve().name)
        if cache is not None:  # only after success: a failed build leaves dest/ exactly as it was
            state.save_source_cache(cache)
    if running is not None and executor is None:  # this build opened its own: say which, and how many workers
        report.executor, report.workers = options.executor or default_executor(options.jobs), workers_of(running)
    report.seconds = time.perf_counter() - started
    return report


def _core_folder(spec: PyramidSpec) -> tuple[str, ...]:
    """The folder of computed core tiles, which only builds with overlap have."""
    if not spec.overlap:
        return ()

    return (CORE_FOLDER.name,)


def _executor_for(executor: Executor | None, options: BuildOptions, stack: ExitStack, image_dir, dest) -> Executor:
    """The caller's executor (it stays open for the next image), else our own, closed with ``stack``."""
    running = executor if executor is not None else stack.enter_context(open_executor(options.executor, options.jobs))
    check_paths(running, read=[image_dir], write=[dest])  # workers elsewhere must see both, before any tile work
    return running


def _workers_needed(pending: list[Path], jobs: int, first: bool) -> int:
    """One worker for small patches (a second would only compete with linking), else every job."""
    if first:
        return jobs
    changed = sum(len(os.listdir(folder)) for folder in pending)
    return 1 if changed < 16 * jobs else jobs


def _build_versions(target, sources: list[Path], state: State, report: ImageReport, executor) -> None:
    """Plan and publish each new version.

    Its source files are not trusted yet: publishing may link them (a new ctime), so the next run
    reads each once by CRC-32 and records their identities from then on.
    """
    grid, spec = target.grid, target.spec
    record = state.record(report.published_before - 1) if report.published_before else None
    owners = State.owners_of(record) if record else None
    overlap_owners = State.owners_of(record, "overlap_owners") if record and spec.overlap else None
    for number in range(report.published_before, len(sources)):
        source = scan_version(sources[number], number, grid, spec.format)
        if grid.max_level == 0:  # a 1x1 image: no parent reads, and so checks, its only tile
            _check_unread_tiles(source, grid)
        plan = plan_next(grid, number, source.tiles, owners, overlap_owners, overlap=bool(spec.overlap))
        overlap_owners = plan.overlap and plan.overlap.owners
        meta = {"spec": spec.to_dict(), "resampler": target.resampler, "formats": [f.name for f in target.formats]}
        if target.base_url:  # what the descriptors say; a vacuum rewrites manifests with it
            meta["base_url"] = target.base_url
        report.versions.append(publish_version(target, plan, meta, source.fingerprint, state, executor))
        owners = plan.owners


def _target(image_dir: Path, dest: Path, spec: PyramidSpec, options: BuildOptions, resampler: str):
    """Resolve the plugins a build uses, failing before any work if one is missing or refuses."""
    reg = registry()
    reg.get("storage", options.storage)
    reg.get("resampler", resampler)
    formats = tuple(reg.get("format", name) for name in options.formats)
    check_formats_of(spec, options)
    return Target(image_dir, dest, spec, spec.grid, resampler, options.storage, formats, options.base_url)


def _backfill_formats(target_of, formats: tuple, state: State, published: int) -> list[str]:
    """Publish a format asked for after some versions were published, for each of those versions.

    Other formats only link to the physical files of the first, which never change, so adding
    one later gives exactly what building it from the start would have.
    """
    primary, *others = formats
    dest = state.dest
    missing = [
        (number, name)
        for number in range(published)
        if (dest / primary / f"v{number}").is_dir()  # a vacuumed version stays gone
        for name in others
        if not (dest / name / f"v{number}").is_dir()
    ]
    if not missing:
        return []

    target = target_of()
    by_name = {fmt.name: fmt for fmt in target.formats}
    for number, name in missing:
        publish_format(target, by_name[name], number, State.owners_of(state.record(number)), state)
        state.add_formats(number, [name])
    return [f"{name}/v{number}" for number, name in missing]


def _sticky_formats(options: BuildOptions, state: State) -> BuildOptions:
    """Formats published for an image stay: a run without ``--format iiif`` keeps publishing IIIF.

    Otherwise one forgotten option would leave an image whose versions differ in what they offer.
    The published home stays first: later versions link to the tiles earlier ones hold there.
    """
    count = state.published_count()
    if not count:
        return options
    published = state.record(count - 1).get("formats", [])
    formats = options.formats + tuple(name for name in published if name not in options.formats)
    if published and formats[0] != published[0]:  # the home stays where published versions hold their tiles
        formats = (published[0], *(name for name in formats if name != published[0]))
    return options._replace(formats=formats) if formats != options.formats else options


def check_formats_of(spec: PyramidSpec, options: BuildOptions) -> None:
    """Let each format refuse the build up front, not after the first format is already in place
    (and find a rendition a plugin names wrongly before any tile work)."""
    for name in options.formats:
        fmt = registry().get("format", name)
        checking = capability(fmt, ChecksBuilds)
        if checking is not None:
            checking.check(spec, options.base_url)
        renditions_of(fmt, spec.grid, spec.format)


def _check_unread_tiles(source, grid) -> None:
    """Check source tiles that no computed parent will read (workers check the ones they read)."""
    for tile in source.tiles:
        path = source.path / f"{tile.col}_{tile.row}.{source.fingerprint.ext}"
        check_tile(path.read_bytes(), path, grid.tile_size_of(tile))


def _discard(dest: Path) -> None:
    """Move the old output aside and delete it, so a rebuild starts from the sources alone."""
    if not dest.exists():
        return
    aside = dest / f".rebuild{PARTIAL_MARK}{os.getpid()}"  # inside dest: State.recover removes it after a crash
    keep = (dest / ".dzbuild.lock", aside)
    for child in sorted(dest.iterdir(), key=lambda c: c.name != STATE_DIR):  # records first: see State.recover
        if child not in keep:
            aside.mkdir(exist_ok=True)
            child.rename(aside / child.name)
    if aside.exists():
        shutil.rmtree(aside)

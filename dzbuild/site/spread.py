"""Whole images as tasks: on an executor whose workers run elsewhere, a site's small images are built there.

A small image has one or two work units, so building it here would cost a round trip to the
cluster per version while every other worker waits; a site of thousands of such images would
use one worker at a time. Instead each small image with work becomes one task that runs the
whole ``build_pyramid`` (plan, compute, link, publish, under the image's own lock) on a worker,
inline, while this process builds the large images, whose units spread over the cluster as
usual. The bytes are the same: a build is a pure function of the sources, wherever it runs.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from pathlib import Path

from ..api import BuildsWholeImages
from ..errors import ConfigError
from ..plugins import capability
from ..pyramid.build import BuildOptions, build_pyramid, check_formats_of
from ..pyramid.sources import version_dirs
from ..pyramid.spec import load_spec
from ..pyramid.state import State
from ..run.select import check_paths, default_executor, open_executor, workers_of
from .pages import url_path

SMALL_IMAGE_TILES = 4096  # tiles of a whole image built as one task (a 16384 x 16384 image at 256 px has 5,461)


@contextmanager
def site_executor(config, executor, report):
    """The site's executor: ``executor`` if it is an open one (``dzbuild serve``'s fork pool), else the one named
    by ``executor`` or by ``config.executor``; ``report`` learns which, and how many workers it had."""
    choice = executor if isinstance(executor, str) else config.executor
    report.executor = choice or default_executor(config.jobs)
    kept = executor is not None and not isinstance(executor, str)
    with nullcontext(executor) if kept else open_executor(choice, config.jobs) as opened:
        yield opened
        report.workers = workers_of(opened)


def image_options(config, rel: str) -> BuildOptions:
    """How a site builds the image at ``rel``."""
    return BuildOptions(
        storage=config.storage,
        resampler=config.resampler,
        formats=config.formats,
        jobs=config.jobs,
        base_url=f"{config.base_url.rstrip('/')}/{url_path(rel)}",  # the public URL of this image's folder
        spec_defaults=config.tile_defaults or None,
    )


def check_formats(config, images) -> None:
    """Each format's own check (IIIF: an absolute base_url) on the first image, naming the configuration."""
    options = image_options(config, images[0].rel)
    try:
        check_formats_of(load_spec(images[0].source, options.spec_defaults), options)
    except ConfigError as exc:
        raise ConfigError(exc.message, exc.path or config.file) from None


def build_whole(task: tuple[Path, Path, BuildOptions]):
    """On a worker: build one image completely, in that worker's process."""
    source, dest, options = task
    return build_pyramid(source, dest, options._replace(jobs=1, executor="inline"))


class WholeImages:
    """The small images sent to the workers, and their reports once they are all done."""

    def __init__(self, executor, tasks: dict[str, tuple]) -> None:
        self._rels = list(tasks)
        self._batch = executor.start(build_whole, list(tasks.values())) if tasks else None
        self._reports: dict | None = None

    def __contains__(self, rel: str) -> bool:
        return rel in self._rels

    def report(self, rel: str):
        """The image's ``ImageReport``; the first call waits for every image of the batch."""
        if self._reports is None:
            self._reports = dict(zip(self._rels, self._batch.results(), strict=True))
        return self._reports[rel]

    def cancel(self) -> None:
        if self._batch is not None and self._reports is None:
            self._batch.cancel()


def build_images(config, images, executor, tree: Path, build_one) -> list:
    """Every image's ``build_one(image, whole)``: the ones built here first, then the workers' whole ones."""
    whole = start_whole_images(config, images, executor, tree)
    try:
        here = {image.rel: build_one(image, None) for image in images if image.rel not in whole}
        return [here.get(image.rel) or build_one(image, whole) for image in images]
    except BaseException:
        whole.cancel()  # no worker may go on building an image once the site build has failed
        raise


def start_whole_images(config, images, executor, tree: Path) -> WholeImages:
    """Send each small image that has a version to build to the workers, if the executor asks for it."""
    asking = capability(executor, BuildsWholeImages)
    if asking is None or not asking.whole_images:
        return WholeImages(executor, {})
    tasks = {
        image.rel: (image.source, tree / image.rel, image_options(config, image.rel))
        for image in images
        if _small_with_work(image.source, tree / image.rel, config.tile_defaults)
    }
    if tasks:
        tree.mkdir(parents=True, exist_ok=True)
        check_paths(executor, read=[config.source], write=[tree])
    return WholeImages(executor, tasks)


def _small_with_work(source: Path, dest: Path, tile_defaults) -> bool:
    if load_spec(source, tile_defaults).grid.total_tiles > SMALL_IMAGE_TILES:
        return False
    return State(dest).published_count() < len(version_dirs(source))

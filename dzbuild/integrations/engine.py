"""Build a generator's image folders into its output, the way ``dzbuild build`` builds a site's.

A generator owns its pages; dzbuild adds only each image's pyramid (``OUTPUT/REL/dzi/v{n}/``),
OpenSeadragon and the embed script (``OUTPUT/_dzbuild/``). Pyramids are built in a cache outside
the output and linked into it, so a rebuild with nothing new does no tile work, and a generator
that empties its output before each build (mkdocs does) gets them back as links.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..embed import EMBED_SCRIPT, EMBED_SOURCE
from ..io.files import write_if_changed
from ..io.lock import locked
from ..plugins import registry
from ..run.select import open_executor
from ..site.assets import ViewerAssets, install_viewer
from ..site.build import SiteReport, build_image
from ..site.config import SiteConfig, ViewerConfig, check_values
from ..site.pages import ImageInfo
from ..site.progress import Progress
from ..site.scan import SiteImage, scan_site

REPORT_FILE = "report.json"  # CACHE/report.json: the last build's SiteReport


@dataclass
class Built:
    """What a generator's pages need: every image by its key (posix path below the source)."""

    images: dict[str, ImageInfo]
    viewer: ViewerAssets
    report: SiteReport
    files: list[str] = field(default_factory=list)  # output paths written, posix


def integration_config(
    root: Path, source: Path, output: Path, cache: Path, *, jobs: int | None = None, cdn: bool = False
) -> SiteConfig:
    """A site configuration for a generator's images: no pages, no ``_headers``, no host limits."""
    config = SiteConfig(
        root=Path(root).resolve(),
        file=None,
        source=Path(source).resolve(),
        output=Path(output).resolve(),
        cache=Path(cache).resolve(),
        jobs=jobs,
        host="none",
        viewer=ViewerConfig(openseadragon="cdn" if cdn else "local"),
    )
    check_values(config, config.root)
    return config


def find_images(config: SiteConfig) -> tuple[SiteImage, ...]:
    return scan_site(config.source, skip=(config.output, config.cache)).images


def build_images(config: SiteConfig, images: tuple[SiteImage, ...] | None = None, progress: str = "quiet") -> Built:
    """Build ``images`` (default: every image folder under the source) and link them into the output."""
    started = time.perf_counter()
    found = find_images(config) if images is None else images
    report = SiteReport(str(config.root), str(config.output), len(found))
    with locked(config.cache):
        viewer, written = install_viewer(config)
        steps = Progress(len(found), progress)
        storage = registry().get("storage", config.storage)
        with open_executor(config.executor, config.jobs) as executor:  # started only when an image has tiles to compute
            try:
                infos = {image.rel: build_image(config, image, report, steps, executor, storage) for image in found}
            finally:
                steps.close()
    report.files_written += write_if_changed(config.output / EMBED_SCRIPT, EMBED_SOURCE.read_bytes())
    report.seconds = time.perf_counter() - started
    return Built(infos, viewer, report, [*written, EMBED_SCRIPT])


def write_report(cache: Path, report: SiteReport) -> None:
    """``CACHE/report.json``: the generator prints its own log; scripts and tests read this file."""
    write_if_changed(Path(cache) / REPORT_FILE, json.dumps(report.summary(), indent=1).encode("utf-8"))

"""``dzbuild serve``: build, serve, then rebuild on every change and reload the open pages.

The loop watches the source folder (image folders, ``collection.toml`` files), the configuration
file and the templates with ``watchfiles``, never the output or the cache the build writes. One
worker pool stays open across rebuilds, so a patch costs its tiles, not a pool start and an
OpenCV import. A failed rebuild prints its one-line error and the last good output stays served.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import watchfiles

from ..errors import BuildError, ConfigError, DzbuildError
from ..run.forkpool import ForkPool
from .build import SiteReport, build_site
from .config import SiteConfig, load_config
from .serve import PreviewServer

STEP_MS = 30  # a change batch ends once the files are quiet this long


def open_server(config: SiteConfig, port: int, warn=lambda message: None) -> PreviewServer:
    """Bind 127.0.0.1:``port`` first, so a taken port is a one-line error before any build."""
    try:
        return PreviewServer(
            port, config.output, config.cache, config.base_path,
            headers_file=config.headers_file, redirects_file=config.redirects_file, warn=warn,
        )  # fmt: skip
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; choose another --port") from None


class Preview:
    """One site, built, served and rebuilt on every change."""

    def __init__(self, root: Path | str, port: int = 8000, jobs: int | None = None, out=sys.stdout) -> None:
        if not Path(root).is_dir():
            what = "no such folder" if not Path(root).exists() else "not a folder"
            raise ConfigError(f"{what}: dzbuild serve needs the site's root folder (the one with dzbuild.toml)", root)
        self.config = load_config(root)
        self.jobs = jobs if jobs is not None else self.config.jobs
        self.out = out
        self.server = open_server(self.config, port, warn=lambda message: self._say(f"warning: {message}"))
        self.pool = ForkPool(self.jobs)
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Build, serve, and rebuild on each change until ``stop()`` (or Ctrl-C)."""
        try:
            self.pool.prewarm(self.pool.jobs)  # before any thread starts: fork a quiet process
            self._report(self.build(), first=True)
            self.server.rules.load()  # a _redirects line the preview must skip is said once, now
            self.server.start()
            self.watch()
        finally:
            self.close()

    def build(self, defer_output: bool = False) -> SiteReport:
        try:
            return build_site(
                self.config.root, jobs=self.jobs, progress="quiet", executor=self.pool, defer_output=defer_output
            )
        except BuildError:  # a worker died: later rebuilds get a fresh pool
            self.pool.close(cancel=True)
            self.pool = ForkPool(self.jobs)
            raise

    def watch(self) -> None:
        ignored = [str(p) for p in (self.config.output, self.config.cache) if p is not None]
        ignored += [str(p) for p in (self.config.headers_file, self.config.redirects_file) if p is not None]
        paths = _outermost([self.config.root, self.config.source, self.config.templates])
        changes = watchfiles.watch(
            *paths, watch_filter=watchfiles.DefaultFilter(ignore_paths=ignored), step=STEP_MS,
            stop_event=self.stop_event, rust_timeout=200, yield_on_timeout=True,
        )  # fmt: skip
        watching = False
        for batch in changes:
            if self.stop_event.is_set():
                return
            if not watching:  # the first answer: the watches are in place, so nothing can be missed now
                watching = True
                self.rebuild(quiet=True)  # catch what changed between the first build and now
                self._say(f"serving {self.config.output} at {self.server.url} (a preview, not a production"
                          " server; Ctrl-C stops)")
            elif batch:
                self.rebuild()

    def rebuild(self, quiet: bool = False) -> None:
        """Build again; a build that changed something reloads the pages (``quiet``: say only that)."""
        try:
            self.config = load_config(self.config.root)  # the configuration may be what changed
            report = self.build(defer_output=True)  # pyramids and pages; new versions served from the cache
        except DzbuildError as exc:
            self._say(f"error: {exc} (still serving the last good build)")
            return
        if not quiet or report.versions_built or report.files_written:
            self.server.live.bump()  # the pages reload now, while the output catches up
            self._report(report)
        try:
            linked = self.build()  # link the new versions into the output, check the host's limits, site_built
        except DzbuildError as exc:
            self._say(f"error: {exc}")
            return
        for message in linked.warnings:
            self._say(f"warning: {message}")
        self.server.rules.load()

    def _report(self, report: SiteReport, first: bool = False) -> None:
        versions = f"{report.versions_built} version{'' if report.versions_built == 1 else 's'}"
        work = f"{versions} built ({report.tiles_computed} tiles computed)"
        what = "built" if first else "rebuilt"
        self._say(f"{what} {report.site}: {work if report.versions_built else 'no new version'}"
                  f" in {report.seconds:.2f} s")

    def _say(self, line: str) -> None:
        print(f"dzbuild serve: {line}", file=self.out, flush=True)

    def stop(self) -> None:
        self.stop_event.set()

    def close(self) -> None:
        self.stop_event.set()
        self.server.stop()
        self.pool.close()


def _outermost(folders: list[Path | None]) -> list[str]:
    """The folders to watch recursively: none inside another (the source is usually the root)."""
    chosen = sorted({Path(f) for f in folders if f is not None}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for folder in chosen:
        if not any(folder == k or k in folder.parents for k in kept):
            kept.append(folder)
    return [str(p) for p in kept]

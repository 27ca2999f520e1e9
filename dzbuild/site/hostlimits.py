"""Check the output against the limits of the host it will be deployed to, and warn with the numbers.

Every hard link counts as a file for an upload: a host sees each version of an image as a full
copy of its tiles, even though the disk stores each tile once.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
CONTROL_FILES = {"_headers", "_redirects"}  # read by the host, not served: they do not count


@dataclass(frozen=True)
class HostLimits:
    name: str
    max_files: int | None = None
    max_file_bytes: int | None = None
    max_total_bytes: int | None = None


HOSTS = {
    "cloudflare-pages": HostLimits("Cloudflare Pages (free plan)", max_files=20_000, max_file_bytes=25 * MiB),
    "netlify": HostLimits("Netlify"),
    "github-pages": HostLimits("GitHub Pages", max_file_bytes=100 * MiB, max_total_bytes=1024 * MiB),
    "none": HostLimits("no host"),
}


class HostLimitWarning(UserWarning):
    """The output is larger than the chosen host accepts; the build itself succeeded."""


@dataclass
class OutputStats:
    files: int = 0
    bytes: int = 0
    largest: int = 0
    largest_path: str = ""
    control_files: int = 0  # _headers and _redirects at the top: on disk, but the host does not serve them

    @property
    def on_disk(self) -> int:
        """Every file in the output folder, as ``find OUTPUT -type f`` counts them (links followed)."""
        return self.files + self.control_files


    def add(self, other: "OutputStats") -> None:
        """Count another part of the output in (its files, bytes and largest file)."""
        self.files += other.files
        self.bytes += other.bytes
        self.control_files += other.control_files
        if other.largest > self.largest:
            self.largest, self.largest_path = other.largest, other.largest_path


def measure(output: Path, known: dict[str, OutputStats] | None = None) -> OutputStats:
    """Files and bytes a host would upload from ``output`` (symlinks followed, control files skipped).

    ``known``: output-relative folders whose counts the site journal kept from an earlier build
    (the immutable version folders dzbuild linked in), counted from there instead of walked.
    """
    known = known or {}
    stats = OutputStats()
    stack = [(output, "")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                inner = f"{rel}{entry.name}"
                if inner in known:
                    stats.add(known[inner])
                elif entry.is_dir():
                    stack.append((Path(entry.path), inner + "/"))
                elif entry.name in CONTROL_FILES and folder == output:
                    stats.control_files += 1
                else:
                    size = entry.stat().st_size
                    stats.files += 1
                    stats.bytes += size
                    if size > stats.largest:
                        stats.largest, stats.largest_path = size, entry.path
    return stats


def check_limits(stats: OutputStats, host: str, packed=None) -> list[str]:
    """Warn (and return the messages) for every limit of ``host`` that the output exceeds.

    ``packed()``, when given, is the file count the site would have with ``formats = ["pmtiles"]``
    (see ``packcount``); asked only when there are too many files.
    """
    limits = HOSTS[host]
    problems = []
    if limits.max_files is not None and stats.files > limits.max_files:
        way_out = "fewer versions, larger tiles, or another host"
        if packed is not None:
            way_out = (f'{way_out}; with formats = ["pmtiles"] (the PMTiles pack format, plugins/dzbuild-pmtiles)'
                       f" the site would have {packed():,} files")
        problems.append(f"the output has {stats.files:,} files; {limits.name} accepts at most {limits.max_files:,}"
                        f" ({way_out})")
    if limits.max_file_bytes is not None and stats.largest > limits.max_file_bytes:
        problems.append(
            f"{stats.largest_path} is {stats.largest / MiB:.1f} MiB; {limits.name} accepts files up to"
            f" {limits.max_file_bytes / MiB:.0f} MiB"
        )
    if limits.max_total_bytes is not None and stats.bytes > limits.max_total_bytes:
        problems.append(
            f"the output is {stats.bytes / MiB:,.0f} MiB; {limits.name} accepts sites up to"
            f" {limits.max_total_bytes / MiB:,.0f} MiB"
        )
    for message in problems:
        warnings.warn(message, HostLimitWarning)
    return problems

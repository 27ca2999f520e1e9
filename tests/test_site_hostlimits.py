"""Host limits: counted like an upload counts (links are files, control files are not), warned with numbers."""

from __future__ import annotations

import os

import pytest

from dzbuild.site.hostlimits import HostLimitWarning, OutputStats, check_limits, measure


def test_measure_counts_every_path_and_skips_control_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "t.jpg").write_bytes(b"x" * 10)
    os.link(tmp_path / "a" / "t.jpg", tmp_path / "a" / "u.jpg")
    (tmp_path / "_headers").write_text("/*\n")
    (tmp_path / "a" / "_headers").write_text("served")  # only the top-level one is a control file
    stats = measure(tmp_path)
    assert (stats.files, stats.bytes, stats.largest) == (3, 26, 10)


def test_cloudflare_file_count_and_size_with_the_numbers():
    with pytest.warns(HostLimitWarning) as caught:
        problems = check_limits(OutputStats(20_001, 10, 26 * 1024 * 1024, "big.png"), "cloudflare-pages")
    assert problems == [str(w.message) for w in caught]
    assert "20,001 files; Cloudflare Pages (free plan) accepts at most 20,000" in problems[0]
    assert "big.png is 26.0 MiB" in problems[1] and "up to 25 MiB" in problems[1]


def test_within_limits_or_no_host_is_quiet():
    assert check_limits(OutputStats(20_000, 10, 1, "a"), "cloudflare-pages") == []
    assert check_limits(OutputStats(10**6, 10**12, 10**9, "a"), "none") == []


def test_github_pages_total_size():
    with pytest.warns(HostLimitWarning, match="the output is 2,048 MiB; GitHub Pages accepts sites up to 1,024 MiB"):
        check_limits(OutputStats(10, 2048 * 1024 * 1024, 1, "a"), "github-pages")

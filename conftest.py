"""One rule for skips, for dzbuild's tests and its plugins' alike.

A test skips when its tool (Chromium, OpenSeadragon, wrangler, a mountable disk...) is missing. In CI
(``CI=true``, set by ``.ci/run``) every tool must be there, so a skip is turned into a failure that
says why: a suite that skips silently proves nothing. A test that may skip in CI too says so, with
its reason, through ``@pytest.mark.allowed_skip("reason")``.
"""

from __future__ import annotations

import os

import pytest

MARKER = "allowed_skip"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(reason): this test may skip under CI=true too, for the reason given")


def _allowed(item) -> bool:
    marker = item.get_closest_marker(MARKER) if item is not None else None
    if marker is not None and not (marker.args and isinstance(marker.args[0], str) and marker.args[0].strip()):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER} needs the reason as its first argument")
    return marker is not None


def _fail_instead(report, what: str) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{what} skipped under CI=true: {reason} (CI must provide it, see .ci/run)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail") and not _allowed(item):
        _fail_instead(report, "test")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci():  # a module-level skip (importorskip) hides every test in it
        _fail_instead(report, "module")

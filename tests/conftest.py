"""Shared fixtures. Entry-point plugins are skipped in-process so installed plugins never change results."""

from __future__ import annotations

import sys

import pytest

sys._dzbuild_called_from_test = True


@pytest.fixture(autouse=True)
def _fresh_plugin_registry():
    """Each test sees exactly the plugins it registers; caches from earlier tests are dropped."""
    from dzbuild import plugins

    plugins.reset()
    yield
    plugins.reset()

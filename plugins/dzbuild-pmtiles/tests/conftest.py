"""The plugin is registered in-process by a fixture, as it would be through its entry point."""

from __future__ import annotations

import sys

import pytest

sys._dzbuild_called_from_test = True  # installed entry points stay out of in-process tests


@pytest.fixture(autouse=True)
def pmtiles_plugin():
    import dzbuild_pmtiles

    from dzbuild.testing import plugin_registered

    with plugin_registered(dzbuild_pmtiles, "pmtiles") as plugin:
        yield plugin

"""dzbuild: incremental Deep Zoom pyramids and collections for static sites.

The Python API is what this package exports (see docs/api.md); plugin authors
import ``dzbuild.api``. Importing this package stays cheap (no OpenCV, Jinja or plugin
scan): each name loads its module on first use, so that ``dzbuild --version`` and a no-op
rebuild cost little more than the interpreter's start.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {  # name: the module that defines it
    "build_pyramid": "dzbuild.pyramid.build",
    "BuildOptions": "dzbuild.pyramid.build",
    "build_collection": "dzbuild.collection.build",
    "build_site": "dzbuild.site.build",
    "check": "dzbuild.maintain.check",
    "vacuum": "dzbuild.pyramid.vacuum",
    "hookimpl": "dzbuild.hookspecs",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dzbuild' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted({*globals(), *_EXPORTS})

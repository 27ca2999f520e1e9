"""dzbuild: incremental Deep Zoom pyramids and collections for static sites.

Importing this package stays cheap (no OpenCV, Jinja or plugin scan) so that ``dzbuild
--version`` and a no-op rebuild cost little more than the interpreter's start.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # ``from dzbuild import hookimpl`` for plugin authors, without importing pluggy at start-up.
    if name == "hookimpl":
        from .hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'dzbuild' has no attribute {name!r}")

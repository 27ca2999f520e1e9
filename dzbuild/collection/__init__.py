"""Deep Zoom Collections: many images whose low levels share tiles in Morton layout, built incrementally.

``build_collection(out_dir, name, members)`` is the entry point; see ``build.py`` for the pipeline.
"""

from .build import CollectionReport, build_collection
from .layout import MortonLayout

__all__ = ["CollectionReport", "MortonLayout", "build_collection"]

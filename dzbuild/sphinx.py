"""``extensions = ["dzbuild.sphinx"]`` in ``conf.py``: the ``deepzoom`` directive (see dzbuild.integrations.sphinx)."""

from .integrations.sphinx import setup

__all__ = ["setup"]

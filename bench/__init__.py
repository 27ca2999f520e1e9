"""The speed, memory and quality benchmark of issue 3 (``python bench/run.py``); not part of the package."""

"""The speed, memory and quality benchmarks (``python bench/run.py`` and the others here); not part of the package."""

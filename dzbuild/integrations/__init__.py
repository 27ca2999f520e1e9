"""dzbuild inside other site generators: the mkdocs plugin and the Sphinx extension share ``engine``."""

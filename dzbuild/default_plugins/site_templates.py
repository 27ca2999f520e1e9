"""Built-in site templates, registered like a theme plugin's folder and searched after every plugin's."""

from __future__ import annotations

from dzbuild.api import BUILTIN_TEMPLATES, hookimpl


@hookimpl
def register_template_dirs(register):
    register(BUILTIN_TEMPLATES)

"""Where a site build writes (output, cache, ``_headers``, ``_redirects``, the data file) and where it is served.

Both come from the site's configuration and are checked before anything is built: a path inside an
image folder would write into the sources, one on ``dzbuild.toml`` or a page would overwrite it, and
``base_url`` goes verbatim into ``_headers`` and ``_redirects``, where a space or a newline would be
a header injection.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ..errors import ConfigError
from ..io import userfiles
from ..pyramid.sources import version_number
from ..pyramid.spec import SPEC_FILE
from .changes import CHANGES_DIR
from .scan import COLLECTION_FILES, OWNED_NAMES

URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")  # RFC 3986 path characters: no space, no newline
HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")  # RFC 1123: 1 to 63 characters
BASE_URL_FORMS = "a URL path (/zoom/) or an http(s) URL (https://host/zoom/)"
CONFIG_FILES = ("dzbuild.toml", "pyproject.toml")  # where a site's configuration may be
OWN_NAME = {"headers_file": "_headers", "redirects_file": "_redirects"}  # their default place: the output's root
PAGE = "index.html"  # the name of every page dzbuild writes


def base_url_problem(base_url: str) -> str | None:
    """A URL path or an absolute http(s) URL with a real host: it goes verbatim into ``_headers``/``_redirects``."""
    scheme, _, rest = base_url.partition("://") if "://" in base_url else ("", "", base_url)
    authority, slash, path = rest.partition("/") if scheme else ("", "", rest)
    if URL_PATH.fullmatch((slash + path) or "/") is None or (scheme and scheme not in ("http", "https")):
        return f"must be {BASE_URL_FORMS}, got {base_url!r}"
    if not scheme:
        return None
    host, colon, port = authority.partition(":")
    if not all(HOST_LABEL.fullmatch(label) for label in host.split(".")):
        return f"has an empty or invalid host name (labels of letters, digits and '-', joined by '.'): {base_url!r}"
    if colon and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return f"has the port {port!r}, which is not a number from 1 to 65535: {base_url!r}"
    return None


def check_paths(config, where) -> None:
    """What dzbuild writes (output, cache, _headers, _redirects, the data file) never lands on what it reads.

    Nothing goes into an image folder (its sources), the templates or onto a configuration file;
    a file dzbuild writes is a regular file (or nothing yet), outside the cache, not a file dzbuild
    writes in the output for another purpose, and not one of the others.
    """
    files = {"headers_file": config.headers_file, "redirects_file": config.redirects_file}
    files = {key: path for key, path in {**files, "data_file": config.data_file}.items() if path is not None}
    for key, path in {"output": config.output, "cache": config.cache, **files}.items():
        image = next((p for p in (path, *path.parents) if (p / SPEC_FILE).is_file()), None)
        if image is not None:
            message = f"{key!r} is inside the image folder {image}: dzbuild would write into its sources"
            raise ConfigError(message, where)
    for key, path in files.items():
        problem = _written_file_problem(config, key, path)
        if problem:
            raise ConfigError(f"{key!r} {problem}, got {path}", where)
    for (one, a), (other, b) in itertools.combinations(files.items(), 2):
        if a == b:
            raise ConfigError(f"{one!r} and {other!r} must be two files", where)


def _written_file_problem(config, key: str, path: Path) -> str | None:
    if path.is_dir():
        return "must be a file, not a folder"
    if config.cache == path or config.cache in path.parents:
        return "must be a file outside the cache"
    if path.exists() and not path.is_file():
        return "must be a regular file"
    if path == config.file or (path.parent == config.root and path.name in CONFIG_FILES):
        return "must not be the site's configuration"
    if path.name in COLLECTION_FILES and config.source in path.parents:
        return "must not be a collection's configuration"
    if config.templates is not None and config.templates in path.parents:
        return "must be outside the templates folder"
    if config.output in path.parents:
        rel = path.relative_to(config.output)
        if (rel.parts[0] in OWNED_NAMES or rel.name == PAGE) and rel.as_posix() != OWN_NAME.get(key):
            return "must not be a file dzbuild writes in the output for another purpose"
    return None


def check_written_places(config, images, collections, where) -> None:
    """After the scan: no file the configuration names lies in a folder dzbuild publishes for an image or collection."""
    for key in ("headers_file", "redirects_file", "data_file"):
        path = getattr(config, key)
        for folder in path.parents if path is not None else ():
            if config.output not in folder.parents:
                break
            rel = folder.relative_to(config.output).as_posix()
            publisher = _publisher(rel, config.formats, images, collections)
            if publisher is not None:
                message = f"{key!r} is inside {rel}/, which dzbuild publishes for {publisher}: {path}"
                raise ConfigError(message, where)


def _publisher(folder: str, formats, images, collections) -> str | None:
    """Who publishes the output folder ``folder`` ("the image 'a'"), or None: the rest may hold the site's own files.

    An image publishes its format folders and ``changes/``; a collection its format and version folders.
    """
    parent, _, name = folder.rpartition("/")
    for image in images:
        if parent == image.rel and (name in formats or name == CHANGES_DIR):
            return f"the image {image.rel!r}"
    for collection in collections:
        if parent == collection.path and (name in formats or version_number(name) is not None):
            return f"the collection {collection.name!r}"
    return None


def read_control_file(path: Path) -> str:
    """The site's own ``_headers``/``_redirects`` lines, which dzbuild keeps around its block."""
    try:
        return userfiles.read_text(path)
    except FileNotFoundError:
        return ""
    except ValueError as exc:  # not UTF-8, not a regular file: refuse rather than rewrite it
        message = f"cannot read: {exc}; dzbuild merges its rules into this file and keeps the rest"
        raise ConfigError(message, path) from None

"""Where a site build writes (output, cache, ``_headers``, ``_redirects``) and where it is served.

Both come from the site's configuration and are checked before anything is built: a path inside an
image folder would write into the sources, and ``base_url`` goes verbatim into ``_headers`` and
``_redirects``, where a space or a newline would be a header injection.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from ..io import userfiles
from ..pyramid.spec import SPEC_FILE

URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")  # RFC 3986 path characters: no space, no newline


def check_base_url(base_url: str, where) -> None:
    """A URL path (``/zoom/``) or an absolute http(s) URL: it goes verbatim into ``_headers`` and ``_redirects``."""
    scheme, _, rest = base_url.partition("://") if "://" in base_url else ("", "", base_url)
    host, slash, path = rest.partition("/") if scheme else ("", "", rest)
    ok = URL_PATH.fullmatch((slash + path) or "/") is not None and (not scheme or scheme in ("http", "https"))
    if not ok or (scheme and not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]+)?", host)):
        raise ConfigError(
            f"'base_url' must be a URL path (/zoom/) or an http(s) URL (https://host/zoom/), got {base_url!r}", where
        )


def check_paths(config, where) -> None:
    """What dzbuild writes (output, cache, _headers, _redirects) never lands in an image folder or on each other."""
    written = {"output": config.output, "cache": config.cache}
    controls = {"headers_file": config.headers_file, "redirects_file": config.redirects_file}
    written.update({key: path for key, path in controls.items() if path is not None})
    for key, path in written.items():
        image = next((p for p in (path, *path.parents) if (p / SPEC_FILE).is_file()), None)
        if image is not None:
            message = f"{key!r} is inside the image folder {image}: dzbuild would write into its sources"
            raise ConfigError(message, where)
    for key in ("headers_file", "redirects_file"):
        path = written.get(key)
        if path is not None and (path.is_dir() or config.cache in path.parents):
            raise ConfigError(f"{key!r} must be a file outside the cache, got {path}", where)
    if config.headers_file is not None and config.headers_file == config.redirects_file:
        raise ConfigError("'headers_file' and 'redirects_file' must be two files", where)


def read_control_file(path: Path) -> str:
    """The site's own ``_headers``/``_redirects`` lines, which dzbuild keeps around its block."""
    try:
        return userfiles.read_text(path)
    except FileNotFoundError:
        return ""
    except ValueError as exc:  # not UTF-8, not a regular file: refuse rather than rewrite it
        message = f"cannot read: {exc}; dzbuild merges its rules into this file and keeps the rest"
        raise ConfigError(message, path) from None

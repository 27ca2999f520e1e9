"""``pyramid.json``: the strict description of one image, parsed and validated."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

from ..errors import ConfigError
from ..grid import Grid
from ..io import userfiles

SPEC_FILE = "pyramid.json"
TILE_FORMATS = ("jpg", "png", "webp")  # webp: lossy at ``quality``, as OpenCV encodes it
MAX_OVERLAP = 16  # DZI viewers use 0 to 4; a border wider than a tile's neighbour makes no sense
MAX_DIMENSION = 1 << 24  # 16.7 million pixels a side: far beyond any real scan, small enough to catch typos

_REQUIRED = {"width": int, "height": int, "tile_size": int, "overlap": int}
_OPTIONAL = {"format": str, "quality": int}


class PyramidSpec(NamedTuple):
    """What ``pyramid.json`` declares. Everything that decides output bytes lives here."""

    width: int
    height: int
    tile_size: int
    overlap: int = 0
    format: str = "jpg"
    quality: int = 85

    @property
    def grid(self) -> Grid:
        return Grid(self.width, self.height, self.tile_size)

    def to_dict(self) -> dict:
        return dict(self._asdict())


def parse_spec(text: str, path: Path | str = SPEC_FILE, defaults: dict | None = None) -> PyramidSpec:
    """Parse and validate the JSON text of a ``pyramid.json``; raise ConfigError naming ``path``.

    ``defaults`` (a site's ``[tiles]`` format and quality) fill the optional keys the file omits.
    """
    try:
        data = userfiles.loads(text)
    except json.JSONDecodeError as exc:
        hint = ""
        if re.search(r"[{,]\s*[A-Za-z_]\w*\s*:", text):
            hint = ' (keys must be quoted: "width": 750, not width: 750)'
        raise ConfigError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}", path) from None
    except ValueError as exc:  # a key twice, too deep, a number of thousands of digits
        raise ConfigError(f"invalid JSON: {exc}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("must be a JSON object with width, height, tile_size and overlap", path)
    data = {**{k: v for k, v in (defaults or {}).items() if k in _OPTIONAL}, **data}
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        known = ", ".join([*_REQUIRED, *_OPTIONAL])
        raise ConfigError(f"unknown key {unknown[0]!r} (known keys: {known})", path)
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in data:
            if key in _REQUIRED:
                raise ConfigError(f"missing key {key!r}", path)
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{key!r} must be {'an integer' if kind is int else 'a string'}, got {value!r}", path)
    spec = PyramidSpec(**data)
    _check_values(spec, path)
    return spec


def _check_values(spec: PyramidSpec, path: Path | str) -> None:
    for key in ("width", "height", "tile_size"):
        value = getattr(spec, key)
        if not 1 <= value <= MAX_DIMENSION:
            raise ConfigError(f"{key!r} must be between 1 and {MAX_DIMENSION}, got {value}", path)
    if not 0 <= spec.overlap <= min(MAX_OVERLAP, spec.tile_size):
        limit = min(MAX_OVERLAP, spec.tile_size)
        bounds = f"between 0 and {limit} (tile_size and 16 at most)"
        raise ConfigError(f"'overlap' must be {bounds}, got {spec.overlap}", path)
    if spec.format not in TILE_FORMATS:
        raise ConfigError(f"'format' must be one of {', '.join(TILE_FORMATS)}, got {spec.format!r}", path)
    if not 1 <= spec.quality <= 100:
        raise ConfigError(f"'quality' must be between 1 and 100, got {spec.quality}", path)


def load_spec(image_dir: Path, defaults: dict | None = None) -> PyramidSpec:
    path = image_dir / SPEC_FILE
    try:
        text = userfiles.read_text(path)
    except FileNotFoundError:
        raise ConfigError("missing: an image folder needs a pyramid.json", path) from None
    except (OSError, ValueError) as exc:  # not a regular file, not UTF-8, permissions
        raise ConfigError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", path) from None
    if not text.strip():
        raise ConfigError("is empty: it needs width, height, tile_size and overlap", path)
    return parse_spec(text, path, defaults)

"""The ``latest/`` alias of every image, on every host: a redirect where the host allows one per image,
a descriptor file where it does not.

A redirect ``/IMAGE/latest/* /IMAGE/dzi/v{n}/:splat`` needs a splat, and viewers need it: OpenSeadragon
derives a Deep Zoom image's tile URLs from the URL it was given (``.../latest/dzi_files/...``), not from
where a redirect of the descriptor led. Cloudflare Pages applies only 100 redirects with a splat, and
GitHub Pages none. There, ``IMAGE/latest/dzi.xml`` is a file: the latest version's descriptor with the
``Url`` attribute that OpenSeadragon reads as the folder of the tiles, ``/IMAGE/dzi/v{n}/dzi_files/``
under ``base_url``. It changes with each version (hosts revalidate it: it is outside the format's
immutable version folders) and its tiles stay immutable. Only a Deep Zoom viewer format can name its
tiles so; other formats keep the redirect.
"""

from __future__ import annotations

from html import escape

from ..pyramid.formats import DEEP_ZOOM as DZI
from .headers import rule_path
from .pages import url_path

DEEPZOOM_NS = "http://schemas.microsoft.com/deepzoom/2008"
MAX_DYNAMIC = 100  # Cloudflare Pages: redirects with a splat or placeholder
LATEST = "latest"


def dynamic_lines(text: str) -> int:
    """Redirect lines of the site's own ``_redirects`` text with a splat or a placeholder: they share the budget."""
    lines = (line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return sum(1 for parts in lines if parts and ("*" in parts[0] or ":" in parts[0]))


def as_files(host: str, images, own_dynamic: int, fixed_dynamic: int) -> bool:
    """Whether the Deep Zoom images' aliases are descriptor files: GitHub Pages always, Cloudflare Pages
    when one splat redirect per image (besides the site's ``own_dynamic`` and dzbuild's other
    ``fixed_dynamic`` lines) would pass its limit, other hosts never."""
    if host == "github-pages":
        return True
    return host == "cloudflare-pages" and own_dynamic + fixed_dynamic + len(images) > MAX_DYNAMIC


def descriptor_path(image) -> str:
    return f"{image.rel}/{LATEST}/{image.viewer.descriptor}"


def descriptor(base_url: str, image) -> bytes:
    """The latest version's ``dzi.xml``, naming its tiles' folder by an absolute URL (or path)."""
    tiles = f"{base_url.rstrip('/')}/{url_path(image.rel)}/{DZI}/v{image.latest}/{image.viewer.tiles_dir}/"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Image xmlns="{DEEPZOOM_NS}" Url="{escape(tiles)}" TileSize="{image.tile_size}"'
        f' Overlap="{image.overlap}" Format="{escape(image.format)}">\n'
        f'  <Size Width="{image.width}" Height="{image.height}"/>\n'
        "</Image>\n"
    )
    return xml.encode("utf-8")


def descriptor_files(base_url: str, images) -> list[tuple[str, bytes]]:
    """``(output path, bytes)`` of the alias of every image whose viewer format is Deep Zoom."""
    return [(descriptor_path(image), descriptor(base_url, image)) for image in images if image.viewer.name == DZI]


def redirect_line(base: str, image) -> str:
    prefix = f"{base}{rule_path(image.rel)}"
    return f"{prefix}/{LATEST}/* {prefix}/{image.viewer.name}/v{image.latest}/:splat 302"

"""The inline viewer every integration puts in a page: one partial, one script, one behaviour.

``render_embed`` fills ``templates/_embed.html`` (a site's own template folder may override it);
``templates/assets/dzbuild-viewer.js``, the script of every dzbuild viewer, starts the embeds. Integrations
copy that script to ``OUTPUT/_dzbuild/assets/`` (where ``dzbuild build`` puts theme assets too) and load it
once per page with ``script_tag``, which names OpenSeadragon for it: the embed's own data never does.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

from .api import BUILTIN_TEMPLATES
from .errors import ConfigError
from .pyramid.packing import packing
from .site.assets import ASSETS_DIR, ViewerAssets
from .site.hooks import template_dirs
from .site.pages import ImageInfo, environment

EMBED_TEMPLATE = "_embed.html"
EMBED_SCRIPT = f"{ASSETS_DIR}/assets/dzbuild-viewer.js"  # its URL path below the output root
EMBED_SOURCE = BUILTIN_TEMPLATES / "assets" / "dzbuild-viewer.js"
SLOTS = ("alt", "caption")  # what a generator's page fills in, HTML-escaped, between the parts of an embed
# A slot as the template writes it: a raw "<" and NUL, which no escaped value can contain.
_SLOT = re.compile("<\x00([^\x00<>]*)\x00>")

_environments: dict[tuple[Path, ...], object] = {}


def render_embed(
    image: ImageInfo,
    url_prefix: str,
    alt: str,
    height: str | None = None,
    *,
    viewer: ViewerAssets,
    root: str = "",
    version: int | None = None,
    caption: str | None = None,
    options: dict | None = None,
    templates: Path | None = None,
) -> str:
    """The viewer markup for ``image``, whose folder is at ``url_prefix`` (ending in "/") from the page.

    ``root`` is the URL of the output root from the page (where ``_dzbuild/`` lives); ``version``
    picks a published version (default: the latest, by its versioned URL); ``height`` is a CSS
    length (default: the image's aspect ratio sets the height). ``_embed.html`` is looked up in
    ``templates`` (the site's own folder), then in every plugin's template folders, then dzbuild's.
    """
    number = image.latest if version is None else version
    if packing(image.viewer) is not None:
        raise ConfigError(f"{image.rel}: embeds cannot open packs ({image.viewer.name}) yet; set [viewer] format"
                          ' to a format the site also publishes, such as "dzi"')
    if number not in image.available:
        raise ValueError(f"{image.rel} has no published version v{number}")
    thumb, width, height_px = image.thumbnail()
    thumb = thumb.replace(f"/v{image.latest}/", f"/v{number}/", 1)
    config = {  # what dzbuild-viewer.js reads from data-dzbuild: no script URL, ever
        "tileSources": url_prefix + image.descriptor(number),
        "prefixUrl": _asset_url(viewer.images, viewer, root),
        "options": options or {},
    }
    template = _environment(tuple(template_dirs(templates))).get_template(EMBED_TEMPLATE)
    return template.render(
        image=image,
        alt=alt or image.title,
        height=height,
        caption=caption,
        config=config,
        thumbnail={"url": url_prefix + thumb, "width": width, "height": height_px},
    ).strip()


def embed_parts(image: ImageInfo, url_prefix: str, *, caption: bool, **kwargs) -> list[str]:
    """The embed with the page's alt text (and ``caption``) left open, for a generator's shortcode.

    Even items are markup, written as they are; odd items name the value that goes between them,
    ``"alt"`` or ``"caption"``, which the shortcode HTML-escapes. No value is ever searched for in
    markup, so a name or a caption stays data whatever it contains. ``kwargs`` as for ``render_embed``.
    """
    markup = render_embed(image, url_prefix, _Slot("alt"), caption=_Slot("caption") if caption else None, **kwargs)
    parts = _SLOT.split(markup)
    unknown = sorted({name for name in parts[1::2] if name not in SLOTS})
    if unknown or any("\x00" in part for part in parts[::2]):
        where = _environment(tuple(template_dirs(kwargs.get("templates")))).get_template(EMBED_TEMPLATE).filename
        raise ConfigError("write alt and caption as {{ alt }} and {{ caption }} (no filter): pages fill them", where)
    return parts


def script_tag(src: str, viewer: ViewerAssets, script_dir: str) -> str:
    """``<script src>`` for dzbuild-viewer.js on a page of embeds, naming the OpenSeadragon it loads once.

    ``script_dir`` is the folder of ``src`` below the output root (a relative OpenSeadragon URL is
    resolved against the script's own URL, so one tag suits a page at any depth).
    """
    return f'<script src="{html.escape(src)}"{attributes_html(script_attributes(viewer, script_dir))}></script>'


def script_attributes(viewer: ViewerAssets, script_dir: str) -> dict[str, str]:
    """What ``script_tag`` adds: ``data-openseadragon`` and, for a CDN, ``data-integrity``."""
    osd = viewer.script if viewer.external else posixpath.relpath(viewer.script, script_dir)
    found = {"data-openseadragon": osd}
    if viewer.integrity:
        found["data-integrity"] = viewer.integrity
    return found


def attributes_html(attributes: dict[str, str]) -> str:
    return "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items())


class _Slot:
    """Stands for a page's value while the embed is rendered; autoescaping writes its mark unchanged."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __html__(self) -> str:
        return f"<\x00{self.name}\x00>"

    __str__ = __html__


def _asset_url(url: str, viewer: ViewerAssets, root: str) -> str:
    return url if viewer.external else root + url


def _environment(dirs: tuple[Path, ...]):
    if dirs not in _environments:
        _environments[dirs] = environment(list(dirs))
    return _environments[dirs]

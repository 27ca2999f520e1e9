"""The inline viewer every integration puts in a page: one partial, one script, one behaviour.

``render_embed`` fills ``templates/_embed.html`` (a site's own template folder may override it);
``templates/assets/dzbuild-embed.js`` starts the viewers. Integrations copy that script to
``OUTPUT/_dzbuild/assets/`` (where ``dzbuild build`` puts theme assets too) and load it once per page.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError
from .pyramid.packing import packing
from .site.assets import ASSETS_DIR, ViewerAssets
from .site.hooks import template_dirs
from .site.pages import BUILTIN_TEMPLATES, ImageInfo, environment

EMBED_TEMPLATE = "_embed.html"
EMBED_SCRIPT = f"{ASSETS_DIR}/assets/dzbuild-embed.js"  # its URL path below the output root
EMBED_SOURCE = BUILTIN_TEMPLATES / "assets" / "dzbuild-embed.js"

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
    config = {
        "tileSources": url_prefix + image.descriptor(number),
        "script": _asset_url(viewer.script, viewer, root),
        "prefixUrl": _asset_url(viewer.images, viewer, root),
        "integrity": viewer.integrity,
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


def _asset_url(url: str, viewer: ViewerAssets, root: str) -> str:
    return url if viewer.external else root + url


def _environment(dirs: tuple[Path, ...]):
    if dirs not in _environments:
        _environments[dirs] = environment(list(dirs))
    return _environments[dirs]

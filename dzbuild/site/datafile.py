"""The data file a site generator reads: every image and collection of the site, with its URLs.

Hugo (``data/``), Jekyll and Eleventy (``_data/``) load JSON files from their data folder into
every page, so the shortcodes dzbuild ships for them (``dzbuild/integrations/``) find an image's
descriptor, size and thumbnail by its name alone and never guess a path. URLs start with the
site's ``base_url``: the pages that embed a viewer live outside dzbuild's output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..api import HasCollectionDocument
from ..embed import EMBED_SCRIPT, embed_parts, script_tag
from ..io.files import write_if_changed
from ..plugins import capability
from .pages import ImageInfo, url_path


def site_data(config, viewer, images: list[ImageInfo], groups, formats: dict) -> dict:
    """The whole document; ``formats`` maps each of the site's format names to its format object."""
    base = config.base_url.rstrip("/") + "/"
    assets = {
        "openseadragon": viewer.script if viewer.external else base + viewer.script,
        "openseadragon_images": viewer.images if viewer.external else base + viewer.images,
        "openseadragon_integrity": viewer.integrity,
        "embed": base + EMBED_SCRIPT,
        "embed_script": script_tag(base + EMBED_SCRIPT, viewer, EMBED_SCRIPT.rsplit("/", 1)[0]),
    }
    return {
        "base_url": base,
        "assets": assets,
        "images": {image.rel: image_entry(config, viewer, image, formats) for image in images},
        "collections": {group.name: collection_entry(base, group, formats, config.output) for group in groups},
    }


def embed_entry(config, url: str, image: ImageInfo, version: int, viewer) -> dict:
    """dzbuild's embed (``templates/_embed.html``, the site's override first) for one version.

    Rendered here, in parts (``embed_parts``), so that every shortcode writes exactly the partial's
    markup: it picks ``parts`` (with a caption) or ``parts_plain`` and writes the markup between
    the page's HTML-escaped alt text and caption.
    """
    common = {"viewer": viewer, "root": config.base_url.rstrip("/") + "/", "version": version}
    common.update(options=config.viewer.options, templates=config.templates)
    return {
        "parts": embed_parts(image, url, caption=True, **common),
        "parts_plain": embed_parts(image, url, caption=False, **common),
    }


def image_entry(config, viewer, image: ImageInfo, formats: dict) -> dict:
    """One image: sizes, versions, the descriptor URL of each published version per format, a thumbnail."""
    base, output = config.base_url.rstrip("/") + "/", config.output
    url = base + url_path(image.rel) + "/"
    thumb, thumb_width, thumb_height = image.thumbnail()
    descriptors = {}
    for name, fmt in formats.items():
        folder = output / image.rel / name
        found = {str(n): f"{url}{name}/v{n}/{fmt.descriptor}" for n in image.available if (folder / f"v{n}").is_dir()}
        if found:
            descriptors[name] = found
    entry = {
        "path": image.rel,
        "title": image.title,
        "url": url,
        "width": image.width,
        "height": image.height,
        "tile_size": image.tile_size,
        "versions": list(image.available),
        "latest": image.latest,
        "descriptor": url + image.descriptor(),
        "descriptors": descriptors,
        "thumbnail": {"url": url + thumb, "width": thumb_width, "height": thumb_height},
        "embed": {str(n): embed_entry(config, url, image, n, viewer) for n in image.available},
    }
    if image.manifest_url:
        entry["manifest"] = image.manifest_url  # a IIIF Presentation manifest of every version
    return entry


def collection_entry(base: str, group, formats: dict, output: Path) -> dict:
    url = base + url_path(group.path) + "/"
    entry = {
        "name": group.name,
        "title": group.title,
        "url": url,
        "descriptor": url + url_path(group.descriptor) if group.descriptor else None,
        "items": [member.rel for member in group.members],
    }
    for name, fmt in formats.items():  # a IIIF Collection of the members' manifests
        listing = capability(fmt, HasCollectionDocument)
        if listing is not None and (output / group.path / name / listing.collection).is_file():
            entry["manifest"] = f"{url}{name}/{listing.collection}"
    return entry


def write_data_file(config, viewer, images: list[ImageInfo], groups, formats: dict) -> bool:
    """Write ``data_file`` (when the site names one) unless it already holds exactly these bytes."""
    if config.data_file is None:
        return False
    text = json.dumps(site_data(config, viewer, images, groups, formats), indent=2, ensure_ascii=False) + "\n"
    return write_if_changed(config.data_file, text.encode("utf-8"))

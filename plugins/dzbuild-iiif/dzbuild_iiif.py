"""IIIF Image API 3.0, level 0, as static files (``info.json`` plus one file per tile request), and
IIIF Presentation 3.0: a manifest per image with a canvas per published version.

A level-0 service answers only the requests its ``info.json`` implies, so every tile is stored
under the exact path a client builds: ``{region}/{size}/0/default.{ext}``, with the region in
full-resolution pixels and the size as ``w,h`` (the 3.0 canonical form, and what OpenSeadragon
asks for). IIIF rounds partial edge tiles and scaled sizes up, like Deep Zoom does, so each IIIF
tile is pixel for pixel the DZI tile of the same scale and is linked to it: nothing is encoded
twice. With ``overlap`` >= 1 the links go to dzbuild's overlap-free core tiles instead.

``maxWidth``/``maxHeight`` are the tile size, the largest picture a tile request returns, and
level 0 also requires ``full/max``: the whole image fitted within them, a size no pyramid level
has. Universal Viewer asks for a 90-pixel-wide thumbnail, ``full/90,``. Both are listed under
``sizes`` and served as renditions, which dzbuild computes from the tiles (``api.HasRenditions``);
a requested picture that is a one-tile level's tile is linked to it instead.

Each version also gets ``canvas.json``: the Presentation canvas of that version, published at its
own id, so every id in a manifest resolves to a document that holds it. The manifest lists every
version newest first; it changes when one is added, so it lives beside the version folders
(``iiif/manifest.json``), never inside an immutable one.
"""

from __future__ import annotations

import json

from dzbuild.api import ConfigError, hookimpl

dzbuild_api = "1.1"  # the dzbuild.api version this plugin is written for (renditions)

CONTEXT = "http://iiif.io/api/image/3/context.json"
PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
INFO_FILE = "info.json"
CANVAS_FILE = "canvas.json"
MANIFEST_FILE = "manifest.json"
COLLECTION_FILE = "collection.json"
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
THUMBNAIL_WIDTH = 90  # Universal Viewer's thumbnails ask for full/90,/0/default.jpg


def request_of(grid, tile) -> str | None:
    """The ``{region}/{size}`` a client requests for ``tile``, or None if a finer level's tile answers it.

    A tile covering at most half an output pixel each way is the same 1x1 request as the tile at
    the same place one level finer (e.g. the corner of a 513x513 image at scale factors 1 and 2);
    the finer one is published.
    """
    scale = 1 << (grid.max_level - tile.level)
    span = grid.tile_size * scale
    x, y = tile.col * span, tile.row * span
    w, h = min(span, grid.width - x), min(span, grid.height - y)
    if 2 * w <= scale and 2 * h <= scale:
        return None
    size_w, size_h = grid.tile_size_of(tile)  # == ceil(w / scale), ceil(h / scale)
    region = "full" if (x, y, w, h) == (0, 0, grid.width, grid.height) else f"{x},{y},{w},{h}"
    size = "max" if (size_w, size_h) == (grid.width, grid.height) else f"{size_w},{size_h}"
    return f"{region}/{size}"


def single_tile_level(grid) -> int:
    """The finest level held in one tile: the coarsest scale factor listed under ``tiles``."""
    return next(level for level in reversed(grid.levels) if grid.tile_count(level) == 1)


def max_size(grid) -> tuple[int, int] | None:
    """What ``full/max`` returns: the image fitted within one tile (None: the image fits in one already)."""
    width, height, limit = grid.width, grid.height, grid.tile_size
    if width <= limit and height <= limit:
        return None
    if width >= height:
        return limit, _scaled(height, limit, width)
    return _scaled(width, limit, height), limit


def thumbnail_size(grid) -> tuple[int, int] | None:
    """The size of Universal Viewer's ``full/90,`` request; None for an image too narrow to offer it, or so
    tall that the thumbnail would be higher than ``maxHeight`` (a tile)."""
    height = _scaled(grid.height, THUMBNAIL_WIDTH, grid.width)
    if grid.width <= THUMBNAIL_WIDTH or height > grid.tile_size:
        return None
    return THUMBNAIL_WIDTH, height


def _scaled(length: int, numerator: int, denominator: int) -> int:
    """``length * numerator / denominator`` rounded half up, at least one pixel."""
    return max(1, (2 * length * numerator + denominator) // (2 * denominator))


def whole_requests(grid) -> dict[str, tuple[int, int]]:
    """The whole-image requests beyond the one-tile levels': ``full/max``, the thumbnail's ``full/90,``,
    and each one's listed ``full/w,h`` form, with the size each returns."""
    wanted = {}
    for size, short in ((max_size(grid), "full/max"), (thumbnail_size(grid), f"full/{THUMBNAIL_WIDTH},")):
        if size is not None:
            wanted[short] = wanted[f"full/{size[0]},{size[1]}"] = size
    return wanted


def level_pictures(grid) -> dict[tuple[int, int], object]:
    """The tile of each one-tile level, by its size: the whole image at that size, already published."""
    top = single_tile_level(grid)
    tiles = (next(iter(grid.tiles(level))) for level in range(top + 1))
    return {tuple(grid.tile_size_of(tile)): tile for tile in tiles if request_of(grid, tile) is not None}


def info(spec, grid, url: str) -> dict:
    """The ``info.json`` document of the image service whose base URI is ``url``."""
    top = single_tile_level(grid)
    levels = [grid.level_size(level) for level in range(top + 1)]
    # Whole-image sizes below the full one, as "full/w,h" requests: the one-tile levels, the thumbnail
    # and full/max's size.
    sizes = {tuple(size) for size in [*levels, *whole_requests(grid).values()]} - {(spec.width, spec.height)}
    document = {
        "@context": CONTEXT,
        "id": url,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level0",
        "width": spec.width,
        "height": spec.height,
        "tiles": [{"width": spec.tile_size, "scaleFactors": [1 << k for k in range(grid.max_level - top + 1)]}],
        "sizes": [{"width": w, "height": h} for w, h in sorted(sizes)],
    }
    if max_size(grid) is not None:  # no request returns more than a tile; full/max is fitted within it
        document["maxWidth"] = document["maxHeight"] = grid.tile_size
    if spec.format != "jpg":  # level 0 promises jpg only; say which format the tiles really are
        document["extraFormats"] = [spec.format]
        document["preferredFormats"] = [spec.format]
    return document


def image_body(spec, grid, url: str) -> dict:
    """The largest whole picture a level-0 service serves (``full/max``), with its service."""
    width, height = max_size(grid) or (spec.width, spec.height)
    return {
        "id": f"{url}/full/max/0/default.{spec.format}",
        "type": "Image",
        "format": MEDIA_TYPES[spec.format],
        "width": width,
        "height": height,
        "service": [{"id": url, "type": "ImageService3", "profile": "level0"}],
    }


def canvas(spec, grid, context, label: str | None = None) -> dict:
    """The canvas of one version: the full-size coordinate space, painted by the version's image service.

    Its id is the URL of its own ``canvas.json``; the annotation page and the annotation are
    fragments of it (a canvas id must not have one), so every id resolves to this document.
    """
    canvas_id = f"{context.url}/{CANVAS_FILE}"
    return {
        "id": canvas_id,
        "type": "Canvas",
        "label": {"none": [label or f"v{context.version}"]},
        "width": spec.width,
        "height": spec.height,
        "items": [{
            "id": f"{canvas_id}#page",
            "type": "AnnotationPage",
            "items": [{
                "id": f"{canvas_id}#image",
                "type": "Annotation",
                "motivation": "painting",
                "body": image_body(spec, grid, context.url),
                "target": canvas_id,
            }],
        }],
    }


def manifest(spec, grid, versions: list, url: str, label: str) -> dict:
    """The Presentation 3.0 manifest of an image: one canvas per published version, newest first."""
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{url}/{MANIFEST_FILE}",
        "type": "Manifest",
        "label": {"none": [label]},
        "summary": {"none": [f"{len(versions)} published version{'s' if len(versions) != 1 else ''}, newest first"]},
        "thumbnail": [image_body(spec, grid, versions[-1].url)],
        "items": [canvas(spec, grid, context) for context in reversed(versions)],
    }


def collection(url: str, label: str, members: list) -> dict:
    """A IIIF Collection of the members' manifests, ``members`` being ``(manifest URL, label)`` pairs."""
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{url}/{COLLECTION_FILE}",
        "type": "Collection",
        "label": {"none": [label]},
        "items": [{"id": member_url, "type": "Manifest", "label": {"none": [title]}} for member_url, title in members],
    }


def _json(document: dict) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class IiifFormat:
    name = "iiif"
    label = "IIIF image"  # how pages name the link to a version's info.json (the manifest's is "IIIF manifest")
    descriptor = INFO_FILE
    manifest = MANIFEST_FILE
    collection = COLLECTION_FILE

    def check(self, spec, base_url: str | None) -> None:
        """Refuse before building without an absolute base URL: the Image API requires ``id`` to be an
        absolute URL, and viewers build every tile URL from it (a path would resolve against their page)."""
        if not base_url:
            raise ConfigError(
                "the iiif format needs --base-url, the public URL of the output folder: info.json must hold"
                " the service's absolute URL, and viewers build every tile URL from it"
            )
        if not base_url.lower().startswith(("http://", "https://")):
            raise ConfigError(
                "the iiif format needs base_url (or --base-url) to be an absolute http(s) URL, such as"
                f" https://example.org/zoom/: info.json must hold the service's absolute URL, not {base_url!r}"
            )

    def dirs(self, grid) -> list[str]:
        return _dirs(grid)

    def tile_path(self, grid, tile, ext: str) -> str | None:
        request = request_of(grid, tile)
        return None if request is None else f"{request}/0/default.{ext}"

    def aliases(self, grid, ext: str) -> dict:
        """Whole-image requests whose picture is a one-tile level's tile: linked to its file."""
        levels, found = level_pictures(grid), {}
        for request, size in whole_requests(grid).items():
            tile = levels.get(size)
            if tile is not None and request != request_of(grid, tile):
                found.setdefault(tile, []).append(f"{request}/0/default.{ext}")
        return found

    def renditions(self, grid, ext: str) -> dict:
        """Whole-image requests of a size no level has (``full/max``, the thumbnail): dzbuild computes them."""
        levels = level_pictures(grid)
        return {f"{request}/0/default.{ext}": size for request, size in whole_requests(grid).items()
                if size not in levels}

    def descriptors(self, spec, grid, context) -> dict[str, bytes]:
        self.check(spec, context.url)
        text = json.dumps(info(spec, grid, context.url), indent=2) + "\n"
        own_canvas = {"@context": PRESENTATION_CONTEXT, **canvas(spec, grid, context)}
        return {INFO_FILE: text.encode("utf-8"), CANVAS_FILE: _json(own_canvas)}

    def manifest_document(self, spec, grid, versions: list, url: str | None, label: str) -> bytes:
        """``iiif/manifest.json``: every published version, newest first (rewritten when one is added)."""
        return _json(manifest(spec, grid, versions, url, label))

    def collection_document(self, url: str, label: str, members: list) -> bytes:
        """``COLLECTION/iiif/collection.json`` of a site's collection: its members' manifests, in order."""
        return _json(collection(url, label, members))

    def viewer_source(self, descriptor_url: str, spec) -> str:
        return descriptor_url  # OpenSeadragon opens an info.json URL as a IIIF image service


def _dirs(grid) -> list[str]:
    found = {request_of(grid, tile) for level in grid.levels for tile in grid.tiles(level)} | {"full/max"}
    found |= set(whole_requests(grid))
    return sorted(f"{request}/0" for request in found if request is not None)


@hookimpl
def register_formats(register):
    register(IiifFormat())

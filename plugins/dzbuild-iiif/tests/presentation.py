"""The IIIF Presentation API 3.0 rules a static manifest or collection must follow, as one checker.

Checked: ``@context``; ``id`` an HTTP(S) URI, unique, and for a canvas without a fragment;
``type``; ``label`` and ``summary`` language maps; canvases with positive integer ``width`` and
``height``; painting annotations whose ``target`` is their canvas and whose Image body has an
``ImageService3``; a collection's items are typed and labelled references. ``resolve(url)``
returns the local file behind a URL (or None): every id that is a document must be one.
"""

from __future__ import annotations

import json
from urllib.parse import urldefrag

CONTEXT = "http://iiif.io/api/presentation/3/context.json"


def problems(document: dict, resolve, expected_type: str = "Manifest") -> list[str]:
    found: list[str] = []
    context = document.get("@context")
    if (context[-1] if isinstance(context, list) else context) != CONTEXT:
        found.append(f"@context must end with {CONTEXT}, got {context!r}")
    seen: set[str] = set()
    check = _Checker(found, resolve, seen)
    check.resource(document, expected_type, "document")
    if expected_type == "Manifest":
        check.manifest(document)
    else:
        check.collection(document)
    return found


class _Checker:
    def __init__(self, found: list[str], resolve, seen: set[str]) -> None:
        self.found, self.resolve, self.seen = found, resolve, seen

    def problem(self, where: str, message: str) -> None:
        self.found.append(f"{where}: {message}")

    def resource(self, item: dict, kind: str, where: str, unique: bool = True) -> None:
        ident = item.get("id")
        if not isinstance(ident, str) or not ident.startswith(("http://", "https://")):
            self.problem(where, f"id must be an HTTP(S) URI, got {ident!r}")
        elif unique and ident in self.seen:
            self.problem(where, f"id {ident} is used twice")
        self.seen.add(ident)
        if item.get("type") != kind:
            self.problem(where, f"type must be {kind!r}, got {item.get('type')!r}")
        for key in ("label", "summary"):
            if key in item and not _language_map(item[key]):
                self.problem(where, f"{key} must be a language map ({{lang: [strings]}}), got {item[key]!r}")

    def document_at(self, url: str, where: str) -> dict | None:
        path = self.resolve(urldefrag(url)[0])
        if path is None or not path.is_file():
            self.problem(where, f"{url} does not resolve to a file in the output")
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def manifest(self, manifest: dict) -> None:
        if "label" not in manifest:
            self.problem("manifest", "label is required")
        if self.document_at(manifest["id"], "manifest") != manifest:
            self.problem("manifest", "its id does not resolve to this manifest")
        canvases = manifest.get("items") or []
        if not canvases:
            self.problem("manifest", "items must list at least one canvas")
        for n, canvas in enumerate(canvases):
            self.canvas(canvas, f"canvas {n}")
        for thumb in manifest.get("thumbnail", []):
            self.image(thumb, "thumbnail")

    def canvas(self, canvas: dict, where: str) -> None:
        self.resource(canvas, "Canvas", where)
        if "#" in canvas.get("id", ""):
            self.problem(where, "a canvas id must not have a fragment")
        if not all(isinstance(canvas.get(k), int) and canvas[k] > 0 for k in ("width", "height")):
            self.problem(where, "width and height must be positive integers")
        published = self.document_at(canvas["id"], where)
        if published is not None and {k: v for k, v in published.items() if k != "@context"} != canvas:
            self.problem(where, "its id resolves to a different canvas")
        for page in canvas.get("items", []):
            self.resource(page, "AnnotationPage", where)
            for annotation in page.get("items", []):
                self.annotation(annotation, canvas, where)

    def annotation(self, annotation: dict, canvas: dict, where: str) -> None:
        self.resource(annotation, "Annotation", where)
        if annotation.get("motivation") != "painting":
            self.problem(where, "the image annotation's motivation must be painting")
        if annotation.get("target") != canvas["id"]:
            self.problem(where, f"target {annotation.get('target')!r} is not the canvas")
        self.image(annotation.get("body", {}), where, canvas)

    def image(self, body: dict, where: str, canvas: dict | None = None) -> None:
        self.resource(body, "Image", where, unique=False)  # the same picture may appear twice (thumbnail)
        path = self.resolve(body.get("id", ""))
        if path is None or not path.is_file():
            self.problem(where, f"image {body.get('id')} does not resolve to a file")
        services = body.get("service") or []
        if not services:
            self.problem(where, "the image has no service")
        for service in services:
            if service.get("type") != "ImageService3" or service.get("profile") not in ("level0", "level1", "level2"):
                self.problem(where, f"service must be an ImageService3 with a level profile, got {service!r}")
            info = self.document_at(service.get("id", "") + "/info.json", where)
            if info is not None and info.get("id") != service.get("id"):
                self.problem(where, "the service's info.json names another id")
            if info is not None and canvas is not None and (info["width"], info["height"]) != (
                canvas["width"], canvas["height"]
            ):
                self.problem(where, "the canvas is not sized as its image")

    def collection(self, collection: dict) -> None:
        if "label" not in collection:
            self.problem("collection", "label is required")
        if self.document_at(collection["id"], "collection") != collection:
            self.problem("collection", "its id does not resolve to this collection")
        for n, item in enumerate(collection.get("items") or []):
            self.resource(item, item.get("type", "Manifest"), f"item {n}")
            if item.get("type") not in ("Manifest", "Collection") or "label" not in item:
                self.problem(f"item {n}", "must be a labelled Manifest or Collection reference")
            referenced = self.document_at(item.get("id", ""), f"item {n}")
            if referenced is not None and (referenced.get("id"), referenced.get("type")) != (item["id"], item["type"]):
                self.problem(f"item {n}", "its id resolves to another resource")


def _language_map(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v) for k, v in value.items()
    )

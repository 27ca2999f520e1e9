"""The Deep Zoom Collection descriptor (``{name}.dzc``): written by the build, read back by viewers and tests."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError

DEEPZOOM_NS = "http://schemas.microsoft.com/deepzoom/2008"
DESCRIPTOR_SUFFIX = ".dzc"


@dataclass(frozen=True)
class DzcItem:
    id: int
    n: int  # Morton number: where the item's cell is
    source: str  # URL of the item's own DZI, relative to the descriptor
    width: int
    height: int


@dataclass(frozen=True)
class Descriptor:
    max_level: int
    tile_size: int
    format: str
    next_id: int
    items: tuple[DzcItem, ...]
    quality: float | None = None  # JPEG quality as 0-1; optional in the schema, but some DZC readers require it


def quoteattr(value: str) -> str:
    """An XML attribute value with its quotes (``xml.sax.saxutils`` would import urllib.request)."""
    return f'"{html.escape(value, quote=True)}"'


def dzc_xml(descriptor: Descriptor) -> bytes:
    """The descriptor as UTF-8 XML, items in number order so equal collections give equal bytes."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        (
            f'<Collection MaxLevel="{descriptor.max_level}" TileSize="{descriptor.tile_size}"'
            f" Format={quoteattr(descriptor.format)}{_quality_attr(descriptor.quality)}"
            f' NextItemId="{descriptor.next_id}"'
            f" xmlns={quoteattr(DEEPZOOM_NS)}>"
        ),
        "  <Items>",
    ]
    for item in sorted(descriptor.items, key=lambda i: i.id):
        lines.append(f'    <I Id="{item.id}" N="{item.n}" Source={quoteattr(item.source)}>')
        lines.append(f'      <Size Width="{item.width}" Height="{item.height}"/>')
        lines.append("    </I>")
    lines += ["  </Items>", "</Collection>", ""]
    return "\n".join(lines).encode("utf-8")


def _quality_attr(quality: float | None) -> str:
    return "" if quality is None else f' Quality="{quality:g}"'


def parse_dzc(data: bytes, path: Path | str = "collection.dzc") -> Descriptor:
    """Parse a descriptor; raise SourceError naming ``path`` when it is not a Deep Zoom Collection."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SourceError(f"is not valid XML: {exc}", path) from None
    if root.tag != f"{{{DEEPZOOM_NS}}}Collection":
        raise SourceError(f"is not a Deep Zoom Collection (root element {root.tag})", path)
    try:
        items = tuple(_item(element) for element in root.iterfind(f"{{{DEEPZOOM_NS}}}Items/{{{DEEPZOOM_NS}}}I"))
        return Descriptor(
            max_level=int(root.attrib["MaxLevel"]),
            tile_size=int(root.attrib["TileSize"]),
            format=root.attrib["Format"],
            next_id=int(root.attrib["NextItemId"]),
            items=items,
            quality=float(root.attrib["Quality"]) if "Quality" in root.attrib else None,
        )
    except (KeyError, ValueError, AttributeError) as exc:
        raise SourceError(f"has a missing or invalid attribute: {exc}", path) from None


def read_dzc(path: Path) -> Descriptor:
    return parse_dzc(Path(path).read_bytes(), path)


def _item(element) -> DzcItem:
    size = element.find(f"{{{DEEPZOOM_NS}}}Size")
    return DzcItem(
        id=int(element.attrib["Id"]),
        n=int(element.attrib["N"]),
        source=element.attrib["Source"],
        width=int(size.attrib["Width"]),
        height=int(size.attrib["Height"]),
    )

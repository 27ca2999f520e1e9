"""The collection descriptor: written, parsed back with a plain XML parser, and refused when wrong."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from dzbuild.collection.dzc import DEEPZOOM_NS, Descriptor, DzcItem, dzc_xml, parse_dzc
from dzbuild.collection.members import dzi_url
from dzbuild.collection.planner import Member
from dzbuild.errors import SourceError

NS = {"dz": DEEPZOOM_NS}


def descriptor() -> Descriptor:
    items = (
        DzcItem(2, 2, "../../b%20%26%20c/dest/dzi/v1/dzi.xml", 64, 90),
        DzcItem(0, 0, "../../a/dest/dzi/v0/dzi.xml", 300, 200),
    )
    return Descriptor(max_level=8, tile_size=256, format="jpg", next_id=3, items=items)


def test_written_xml_is_the_standard_collection_schema():
    root = ET.fromstring(dzc_xml(descriptor()))
    assert root.tag == f"{{{DEEPZOOM_NS}}}Collection"
    assert root.attrib == {"MaxLevel": "8", "TileSize": "256", "Format": "jpg", "NextItemId": "3"}
    items = root.findall("dz:Items/dz:I", NS)
    assert [i.attrib["Id"] for i in items] == ["0", "2"]  # number order, whatever the input order
    assert items[1].attrib == {"Id": "2", "N": "2", "Source": "../../b%20%26%20c/dest/dzi/v1/dzi.xml"}
    assert items[1].find("dz:Size", NS).attrib == {"Width": "64", "Height": "90"}


def test_round_trip():
    parsed = parse_dzc(dzc_xml(descriptor()))
    assert parsed.next_id == 3 and parsed.tile_size == 256 and parsed.max_level == 8
    assert set(parsed.items) == set(descriptor().items)


def test_source_url_is_relative_to_the_version_folder_and_percent_encoded():
    member = Member("../photos/a <b>&c/dest", 3, 1, 10, 10, 256, 0, "jpg", (0,))
    assert quote(dzi_url(member)) == "../../photos/a%20%3Cb%3E%26c/dest/dzi/v3/dzi.xml"
    assert dzi_url(Member("sub/x/dest", 0, 1, 10, 10, 256, 0, "jpg", (0,))) == "../sub/x/dest/dzi/v0/dzi.xml"


@pytest.mark.parametrize(
    "text, message",
    [
        (b"<Collection", "not valid XML"),
        (b'<Image xmlns="http://schemas.microsoft.com/deepzoom/2008"/>', "not a Deep Zoom Collection"),
        (b'<Collection xmlns="http://schemas.microsoft.com/deepzoom/2008" MaxLevel="8"/>', "missing or invalid"),
    ],
)
def test_bad_descriptors_name_the_file(text, message):
    with pytest.raises(SourceError, match=f"^g.dzc: .*{message}"):
        parse_dzc(text, "g.dzc")

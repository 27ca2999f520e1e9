"""``pyramid.json`` is strict: every mistake is a ConfigError that names the file and the key."""

from __future__ import annotations

import json

import pytest

from dzbuild.errors import ConfigError
from dzbuild.grid import Grid
from dzbuild.pyramid.spec import PyramidSpec, load_spec, parse_spec
from dzbuild.pyramid.tiling import write_spec

GOOD = {"width": 750, "height": 500, "tile_size": 250, "overlap": 0}


def parse(data) -> PyramidSpec:
    return parse_spec(json.dumps(data), "image1/pyramid.json")


def refused(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "image1/pyramid.json")
    message = str(caught.value)
    assert message.startswith("image1/pyramid.json: ") and "\n" not in message
    assert caught.value.exit_code == 2
    return message


def test_minimal_spec_gets_the_defaults():
    spec = parse(GOOD)
    assert spec == PyramidSpec(750, 500, 250, 0, "jpg", 85)
    assert spec.grid == Grid(750, 500, 250)


def test_optional_format_and_quality():
    spec = parse({**GOOD, "format": "png", "quality": 95})
    assert (spec.format, spec.quality) == ("png", 95)


def test_overlap_up_to_the_tile_size():
    assert parse({**GOOD, "overlap": 1}).overlap == 1
    assert parse({**GOOD, "tile_size": 8, "overlap": 8}).overlap == 8


def test_write_spec_and_load_spec_round_trip(tmp_path):
    spec = PyramidSpec(257, 255, 64, format="png", quality=70)
    write_spec(tmp_path, spec)
    assert load_spec(tmp_path) == spec
    assert json.loads((tmp_path / "pyramid.json").read_text()) == spec.to_dict()


def test_unknown_key_is_named():
    message = refused(json.dumps({**GOOD, "tilesize": 256}))
    assert "unknown key 'tilesize'" in message and "tile_size" in message


@pytest.mark.parametrize("key", ["width", "height", "tile_size", "overlap"])
def test_missing_key_is_named(key):
    data = {k: v for k, v in GOOD.items() if k != key}
    assert f"missing key {key!r}" in refused(json.dumps(data))


@pytest.mark.parametrize(
    ("key", "value"),
    [("width", "750"), ("width", 750.0), ("height", None), ("tile_size", [256]), ("quality", 85.5), ("format", 1)],
)
def test_wrong_types_are_refused(key, value):
    message = refused(json.dumps({**GOOD, key: value}))
    assert repr(key) in message and "must be" in message


@pytest.mark.parametrize("key", ["width", "overlap", "quality"])
def test_booleans_are_not_integers(key):
    message = refused(json.dumps({**GOOD, key: True}))
    assert f"{key!r} must be an integer, got True" in message


def test_unquoted_keys_get_a_hint():
    message = refused("{width: 750, height: 500, tile_size: 250, overlap: 0}")
    assert "keys must be quoted" in message and "line 1" in message


def test_invalid_json_says_where():
    message = refused('{"width": 750,\n "height": 500,,\n}')
    assert "invalid JSON at line 2" in message
    assert "quoted" not in message


@pytest.mark.parametrize("text", ["[]", "750", '"width"', "null"])
def test_top_level_must_be_an_object(text):
    assert "must be a JSON object" in refused(text)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"width": 0}, "'width' must be between 1 and"),
        ({"height": -3}, "'height' must be between 1 and"),
        ({"tile_size": 1 << 25}, "'tile_size' must be between 1 and"),
        ({"overlap": -1}, "'overlap' must be between 0 and 16"),
        ({"overlap": 17}, "'overlap' must be between 0 and 16"),
        ({"tile_size": 4, "overlap": 5}, "'overlap' must be between 0 and 4"),
        ({"format": "gif"}, "'format' must be one of jpg, png"),
        ({"quality": 0}, "'quality' must be between 1 and 100"),
        ({"quality": 101}, "'quality' must be between 1 and 100"),
    ],
)
def test_out_of_range_values(change, words):
    assert words in refused(json.dumps({**GOOD, **change}))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"pyramid\.json: missing"):
        load_spec(tmp_path)


def test_empty_file_is_named(tmp_path):
    (tmp_path / "pyramid.json").write_text("  \n")
    with pytest.raises(ConfigError, match=r"pyramid\.json: is empty"):
        load_spec(tmp_path)


def test_undecodable_file_is_named(tmp_path):
    (tmp_path / "pyramid.json").write_bytes(b'{"width": \xff}')
    with pytest.raises(ConfigError, match=r"pyramid\.json: cannot read"):
        load_spec(tmp_path)

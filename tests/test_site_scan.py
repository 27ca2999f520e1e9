"""Scanning a site for images and collections, and resolving collection members by glob."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sites import make_site, write_files

from dzbuild.errors import ConfigError
from dzbuild.site.collections import check_paths, glob_regex, load_collection_file, resolve_members
from dzbuild.site.config import parse_collections
from dzbuild.site.scan import LinkedFolders, require_images, scan_site

SPEC = '{"width": 10, "height": 10, "tile_size": 8, "overlap": 0}'


def site_tree(tmp_path, rels, extra=None):
    write_files(tmp_path, {f"{rel}/pyramid.json": SPEC for rel in rels} | (extra or {}))
    return tmp_path


def test_every_folder_with_pyramid_json_is_an_image_sorted_by_path(tmp_path):
    site = site_tree(tmp_path, ["b", "a/deep/er", "a/x y", "c"], {"notes/readme.txt": "hi"})
    found = scan_site(site)
    assert [image.rel for image in found.images] == ["a/deep/er", "a/x y", "b", "c"]
    assert found.images[0].source == site / "a" / "deep" / "er" and found.images[1].name == "x y"


def test_hidden_folders_node_modules_output_and_cache_are_skipped(tmp_path):
    site = site_tree(tmp_path, ["img", ".hidden/img", "node_modules/pkg", "_site/img", "cache/img"])
    found = scan_site(site, skip=(site / "_site", site / "cache"))
    assert [image.rel for image in found.images] == ["img"]


def test_an_image_folder_is_not_searched_further(tmp_path):
    site = site_tree(tmp_path, ["outer", "outer/inner"])
    assert [image.rel for image in scan_site(site).images] == ["outer"]


def test_the_site_root_itself_cannot_be_an_image(tmp_path):
    write_files(tmp_path, {"pyramid.json": SPEC})
    with pytest.raises(ConfigError, match="is an image folder"):
        scan_site(tmp_path)


def test_collection_files_are_found(tmp_path):
    site = site_tree(tmp_path, ["g/one", "g/two"], {"g/collection.toml": "", "h/collection.json": "{}"})
    assert scan_site(site).collection_files == (site / "g" / "collection.toml", site / "h" / "collection.json")


@pytest.mark.parametrize(
    "pattern, yes, no",
    [
        ("maps/*", ["maps/a", "maps/b c"], ["maps/a/b", "mapsx/a", "maps"]),
        ("maps/**", ["maps/a", "maps/a/b"], ["other/a"]),
        ("**/scan?", ["scan1", "a/b/scan2"], ["scan10", "a/scan"]),
        ("m[ab]p", ["map", "mbp"], ["mcp"]),
        ("m[!a]p", ["mbp"], ["map"]),
        ("a+b (1)", ["a+b (1)"], ["aab (1)"]),
    ],
)
def test_globs(pattern, yes, no):
    regex = glob_regex(pattern)
    assert all(regex.match(rel) for rel in yes) and not any(regex.match(rel) for rel in no)


def test_members_in_declared_order_without_repeats(tmp_path):
    site = site_tree(tmp_path, ["maps/b", "maps/a", "photos/z", "photos/y"])
    images = scan_site(site).images
    (collection,) = parse_collections([{"name": "mix", "images": ["photos/z", "maps/*", "photos/*"]}], "dzbuild.toml")
    assert [m.rel for m in resolve_members(collection, images)] == ["photos/z", "maps/a", "maps/b", "photos/y"]


def test_a_glob_matching_nothing_is_an_error_naming_the_collection(tmp_path):
    images = scan_site(site_tree(tmp_path, ["a"])).images
    (collection,) = parse_collections([{"name": "c", "images": ["nope/*"]}], "dzbuild.toml")
    with pytest.raises(ConfigError, match="collection 'c': 'nope/\\*' matches no image folder"):
        resolve_members(collection, images)


def test_collection_file_defaults_to_every_image_below_its_folder(tmp_path):
    site = site_tree(
        tmp_path, ["My Gallery/a", "My Gallery/sub/b", "elsewhere"], {"My Gallery/collection.toml": 'title = "G"\n'}
    )
    collection = load_collection_file(site / "My Gallery" / "collection.toml", site)
    assert (collection.name, collection.path, collection.title) == ("My-Gallery", "My Gallery", "G")
    assert [m.rel for m in resolve_members(collection, scan_site(site).images)] == ["My Gallery/a", "My Gallery/sub/b"]


def test_collection_json_with_globs_relative_to_its_folder(tmp_path):
    site = site_tree(
        tmp_path, ["g/a", "g/b"], {"g/collection.json": '{"name": "gee", "images": ["b"], "max_level": 6}'}
    )
    collection = load_collection_file(site / "g" / "collection.json", site)
    assert (collection.name, collection.max_level) == ("gee", 6)
    assert [m.rel for m in resolve_members(collection, scan_site(site).images)] == ["g/b"]


def test_bad_collection_file_names_the_file(tmp_path):
    site = site_tree(tmp_path, ["g/a"], {"g/collection.json": '{"name": "x", "tile_size": "big"}'})
    with pytest.raises(ConfigError, match="'tile_size' must be an integer") as caught:
        load_collection_file(site / "g" / "collection.json", site)
    assert caught.value.path == str(site / "g" / "collection.json")


def test_collections_must_not_share_an_output_folder_with_an_image(tmp_path):
    images = scan_site(site_tree(tmp_path, ["a", "b"])).images
    clash = parse_collections([{"name": "a", "images": ["b"]}], "dzbuild.toml")
    with pytest.raises(ConfigError, match="which image 'a' uses"):
        check_paths(clash, images)
    twice = parse_collections([{"name": "x", "images": ["a"]}, {"name": "y", "images": ["b"], "path": "x"}], "t")
    with pytest.raises(ConfigError, match="which collection 'x' uses"):
        check_paths(twice, images)


def dzbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=120)


def test_links_to_folders_are_not_followed_and_named_in_one_warning(tmp_path):
    site = site_tree(tmp_path / "site", ["real"])
    elsewhere = site_tree(tmp_path / "elsewhere", ["img"])
    (site / "loop").symlink_to(".")
    (site / "root").symlink_to("/")
    (site / "alias").symlink_to(elsewhere / "img")
    (site / "real" / "dangling").symlink_to("nowhere")  # not a folder: not a link to one
    (tmp_path / "www").mkdir()
    (site / "_site").symlink_to(tmp_path / "www")  # the output, linked to where a server reads it: skipped quietly
    found = scan_site(site, skip=(site / "_site",))
    assert [image.rel for image in found.images] == ["real"]
    assert found.linked == (site / "alias", site / "loop", site / "root")
    with pytest.warns(LinkedFolders) as caught:
        require_images(found, site)
    assert [str(w.message) for w in caught] == [
        f"{site / 'alias'} is a symbolic link to a folder (and 2 more): not followed, so no image below it is built"
        " (move the folder into the site instead)"
    ]


def test_a_site_holding_links_to_itself_and_to_the_root_builds_checks_and_collects(tmp_path):
    """Build, check and collection agree: links to folders are not followed."""
    site = make_site(tmp_path, images=("g/harbour", "g/bay"), files={"g/collection.toml": 'name = "g"\n'})
    (site / "loop").symlink_to(".")
    (site / "g" / "up").symlink_to("..")
    (site / "root").symlink_to("/")
    built = dzbuild("build", str(site), "--jobs", "1", "--progress", "quiet")
    assert built.returncode == 0, built.stderr
    assert built.stderr.splitlines() == [
        f"dzbuild: warning: {site / 'g' / 'up'} is a symbolic link to a folder (and 2 more): not followed,"
        " so no image below it is built (move the folder into the site instead)"
    ]
    output = site / "_site"
    assert sorted(p.name for p in output.iterdir() if p.is_dir()) == ["_dzbuild", "g"]
    assert sorted(p.name for p in (output / "g").iterdir() if p.is_dir()) == ["bay", "harbour", "v0"]  # v0: of g
    checked = dzbuild("check", str(site))
    assert checked.returncode == 0 and checked.stdout.count("no problems") == 3, checked.stdout  # bay, harbour, g
    collected = dzbuild("collection", str(site / "g"), "--jobs", "1")
    assert collected.returncode == 0 and collected.stdout.startswith(f"{site / 'g'}: 2 images"), collected.stderr


def tree_state(root) -> dict[str, tuple]:
    """Every path below ``root`` with its kind, size and mtime."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            info = os.lstat(os.path.join(folder, name))
            state[os.path.join(folder, name)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return state


def test_every_pyramid_json_is_read_before_any_tile_work(tmp_path):
    """The broken image sorts last: no other image is built first, nothing is written anywhere."""
    site = make_site(tmp_path, images=("a-good", "z-broken"))
    (site / "z-broken" / "pyramid.json").write_text('{"width": 300, "height": 200, "tile_size": 0, "overlap": 0}')
    before = tree_state(tmp_path)
    failed = dzbuild("build", str(site), "--jobs", "1")
    assert failed.returncode == 2 and failed.stderr == (
        f"dzbuild: error: {site / 'z-broken' / 'pyramid.json'}: 'tile_size' must be between 1 and 16777216, got 0\n"
    )
    assert tree_state(tmp_path) == before

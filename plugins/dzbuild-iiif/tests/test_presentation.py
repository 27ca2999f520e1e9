"""IIIF Presentation 3.0 manifests: one canvas per published version, newest first, every id resolvable."""

from __future__ import annotations

import json
from pathlib import Path

from presentation import problems

from dzbuild.grid import Tile
from dzbuild.io import codec
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.spec import load_spec
from dzbuild.pyramid.tiling import write_tiles
from dzbuild.testing import synthetic_image

BASE_URL = "https://example.org/site/img/dest"


def build(image_dir, **options):
    defaults = {"jobs": 1, "formats": ("dzi", "iiif"), "base_url": BASE_URL}
    return build_pyramid(image_dir, options=BuildOptions(**{**defaults, **options}))


def resolver(dest: Path):
    def resolve(url: str) -> Path | None:
        return dest / url.removeprefix(BASE_URL + "/") if url.startswith(BASE_URL + "/") else None

    return resolve


def add_version(image_dir, number: int, seed: int) -> None:
    spec = load_spec(image_dir)
    tile = Tile(spec.grid.max_level, 0, 0)
    write_tiles(image_dir / f"v{number}", synthetic_image(spec.width, spec.height, seed=seed), spec, [tile])


def test_a_manifest_lists_every_version_newest_first_and_follows_the_rules(make_image):
    image_dir = make_image(1001, 750)
    add_version(image_dir, 1, seed=7)
    build(image_dir)
    dest = image_dir / "dest"
    manifest = json.loads((dest / "iiif/manifest.json").read_text())
    assert problems(manifest, resolver(dest)) == []
    assert manifest["id"] == f"{BASE_URL}/iiif/manifest.json"
    assert manifest["label"] == {"none": [image_dir.name]}
    canvases = manifest["items"]
    assert [c["label"] for c in canvases] == [{"none": ["v1"]}, {"none": ["v0"]}]
    assert all((c["width"], c["height"]) == (1001, 750) for c in canvases)
    services = [c["items"][0]["items"][0]["body"]["service"][0]["id"] for c in canvases]
    assert services == [f"{BASE_URL}/iiif/v1", f"{BASE_URL}/iiif/v0"]
    body = canvases[0]["items"][0]["items"][0]["body"]
    pixels = codec.decode(resolver(dest)(body["id"]).read_bytes())
    assert (pixels.shape[1], pixels.shape[0]) == (body["width"], body["height"]) == (256, 192)


def test_a_new_version_rewrites_the_manifest_and_a_rerun_leaves_it_alone(make_image):
    image_dir = make_image(600, 400)
    build(image_dir)
    path = image_dir / "dest/iiif/manifest.json"
    assert len(json.loads(path.read_text())["items"]) == 1
    stamp = path.stat().st_mtime_ns
    build(image_dir)
    assert path.stat().st_mtime_ns == stamp
    add_version(image_dir, 1, seed=3)
    build(image_dir)
    manifest = json.loads(path.read_text())
    assert [c["label"]["none"][0] for c in manifest["items"]] == ["v1", "v0"]
    assert problems(manifest, resolver(image_dir / "dest")) == []


def test_a_vacuumed_version_leaves_the_manifest(make_image):
    from dzbuild import cli

    image_dir = make_image(600, 400)
    add_version(image_dir, 1, seed=3)
    add_version(image_dir, 2, seed=4)
    build(image_dir)
    assert cli.main(["vacuum", str(image_dir), "--remove", "v1"]) == 0
    manifest = json.loads((image_dir / "dest/iiif/manifest.json").read_text())
    assert [c["label"]["none"][0] for c in manifest["items"]] == ["v2", "v0"]
    assert problems(manifest, resolver(image_dir / "dest")) == []


def test_the_checker_finds_broken_manifests(make_image):
    image_dir = make_image(600, 400)
    build(image_dir)
    dest = image_dir / "dest"
    good = json.loads((dest / "iiif/manifest.json").read_text())
    canvas = good["items"][0]
    broken = {**good, "@context": "http://iiif.io/api/presentation/2/context.json", "label": "plain",
              "items": [{**canvas, "id": canvas["id"] + "#x", "width": 0}]}
    found = problems(broken, resolver(dest))
    for expected in ("@context", "label must be a language map", "must not have a fragment", "positive integers",
                     "target"):
        assert any(expected in line for line in found), (expected, found)


def test_a_sites_manifests_and_collection_resolve_inside_its_output(tmp_path):
    from dzbuild.site.build import build_site
    from dzbuild.testing import make_image_folder

    site = tmp_path / "site"
    for seed, name in enumerate(("g/one", "g/two")):
        make_image_folder(site / name, 700, 500, 256, seed=seed)
    (site / "g/collection.toml").write_text('title = "Two"\n')
    base = "https://example.org/zoom"
    (site / "dzbuild.toml").write_text(f'base_url = "{base}/"\nformats = ["dzi", "iiif"]\n')
    build_site(site, progress="quiet", jobs=1)
    out = site / "_site"

    def resolve(url: str):
        return out / url.removeprefix(base + "/") if url.startswith(base + "/") else None

    collection = json.loads((out / "g/iiif/collection.json").read_text())
    assert problems(collection, resolve, "Collection") == []
    assert collection["label"] == {"none": ["Two"]} and len(collection["items"]) == 2
    for item in collection["items"]:
        manifest = json.loads(resolve(item["id"]).read_text())
        assert problems(manifest, resolve) == []
        assert item["label"] == manifest["label"]
    add_version(site / "g/one", 1, seed=9)  # the output's manifest follows the new version
    build_site(site, progress="quiet", jobs=1)
    manifest = json.loads((out / "g/one/iiif/manifest.json").read_text())
    assert [c["label"]["none"][0] for c in manifest["items"]] == ["v1", "v0"] and problems(manifest, resolve) == []


def test_a_rerun_repairs_a_manifest_a_crash_left_behind(make_image):
    image_dir = make_image(600, 400)
    add_version(image_dir, 1, seed=3)
    build(image_dir)
    path = image_dir / "dest/iiif/manifest.json"
    complete = path.read_bytes()
    path.unlink()  # as if the build had died between committing v1 and rewriting the manifest
    build(image_dir, base_url=None)  # a rerun that names no base URL uses the one the versions were built with
    assert path.read_bytes() == complete
    stamp = path.stat().st_mtime_ns
    build(image_dir)
    assert path.stat().st_mtime_ns == stamp

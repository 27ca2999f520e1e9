"""Packs in a site: immutable with CORS in _headers, and the host-limit warning counts the site with packs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from packs import add_version

from dzbuild.site import hostlimits
from dzbuild.site.build import build_site
from dzbuild.site.headers import parse_rules, rule_regex
from dzbuild.testing import make_image_folder
from dzbuild.testing.viewer import find_openseadragon


def make_site(root: Path, formats: list[str]) -> Path:
    """Two images (one with a patch) and a gallery-sized small one, built for Cloudflare Pages."""
    osd = find_openseadragon().parent
    make_image_folder(root / "big", 3000, 2000, 256, seed=1)
    add_version(root / "big", 1, [(3, 1), (8, 6)], seed=2)
    make_image_folder(root / "small", 768, 512, 256, seed=3)
    (root / "dzbuild.toml").write_text(
        f'formats = {json.dumps(formats)}\nhost = "cloudflare-pages"\n'
        f"[viewer]\nopenseadragon_dir = {json.dumps(str(osd))}\n",
        encoding="utf-8",
    )
    return root


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_the_host_limit_warning_names_packs_and_counts_the_files_they_would_make(tmp_path, monkeypatch):
    monkeypatch.setitem(hostlimits.HOSTS, "cloudflare-pages", hostlimits.HostLimits("Tiny host", max_files=10))
    with_packs = make_site(tmp_path / "packs", ["dzi", "pmtiles"])
    build_site(with_packs, jobs=1)
    output = with_packs / "_site"
    dzi_files = sum(len(files(output / image / "dzi")) for image in ("big", "small"))
    expected = hostlimits.measure(output).files - dzi_files  # as served: no _headers, no _redirects
    dzi_only = make_site(tmp_path / "dzi", ["dzi"])
    (message,) = build_site(dzi_only, jobs=1).warnings
    count = hostlimits.measure(dzi_only / "_site").files
    assert message == (
        f"the output has {count:,} files; Tiny host accepts at most 10 (fewer versions, larger tiles, or another"
        f' host; with formats = ["pmtiles"] (the PMTiles pack format, plugins/dzbuild-pmtiles) the site would have'
        f" {expected:,} files)"
    )


def test_published_archives_and_indexes_are_immutable_and_open_to_every_origin(tmp_path):
    site = make_site(tmp_path / "site", ["dzi", "pmtiles"])
    build_site(site, jobs=1)
    rules = parse_rules((site / "_site" / "_headers").read_text())
    published = [p.relative_to(site / "_site").as_posix() for p in files(site / "_site") if "/pmtiles/" in f"/{p}"]
    assert any(p.endswith(".pmtiles") for p in published) and any(p.endswith("index.json") for p in published)
    for rel in published:
        headers = {}
        for rule in rules:
            if rule_regex(rule.path).match(f"/{rel}"):
                headers.update(rule.headers)
        assert headers == {"Cache-Control": "public, max-age=31536000, immutable", "Access-Control-Allow-Origin": "*"}


def test_a_pack_only_site_with_a_collection_is_refused_in_one_line_before_building(tmp_path):
    site = make_site(tmp_path / "site", ["pmtiles"])
    config = (site / "dzbuild.toml").read_text().replace("[viewer]\n", '[viewer]\nformat = "pmtiles"\n')
    (site / "dzbuild.toml").write_text(config + '\n[[collections]]\nname = "all"\nimages = ["big", "small"]\n')
    result = subprocess.run([sys.executable, "-m", "dzbuild", "build", str(site)], capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert "collection 'all' lists its members' Deep Zoom images, which 'formats' ['pmtiles'] does not publish" \
        in result.stderr
    assert not (site / "_site").exists() and not (site / ".dzbuild" / "tree").exists()


def test_an_embed_of_an_image_whose_viewer_opens_packs_is_refused_in_one_line():
    import pytest

    from dzbuild.embed import render_embed
    from dzbuild.errors import ConfigError
    from dzbuild.plugins import registry
    from dzbuild.site.assets import ViewerAssets
    from dzbuild.site.pages import ImageInfo

    packs = registry().get("format", "pmtiles")
    image = ImageInfo("big", 3000, 2000, 256, "jpg", 1, formats=(packs,), viewer=packs)
    viewer = ViewerAssets("_dzbuild/openseadragon/6.1.1/openseadragon.min.js", "_dzbuild/openseadragon/6.1.1/images/")
    with pytest.raises(ConfigError, match=r"^big: embeds cannot open packs \(pmtiles\) yet"):
        render_embed(image, "big/", "Big", viewer=viewer)

"""``_headers``: read back with the hosts' own matching rules; precedence, limits and the merge."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from hostrules import parse_headers_file, response_headers
from sites import make_site, write_files

from dzbuild.site.build import build_site
from dzbuild.site.headers import IMMUTABLE, REVALIDATE, HeadersWarning, Rule, render_headers, site_rules
from dzbuild.site.pages import ImageInfo

IMMUTABLE_VALUE = dict(IMMUTABLE)["Cache-Control"]
REVALIDATE_VALUE = dict(REVALIDATE)["Cache-Control"]
USER_RULES = """# the site's own rules
/*
  X-Frame-Options: DENY

/blog/*
  Cache-Control: public, max-age=600
"""


def browser_path(rel: str) -> str:
    """The path a browser requests for an output file: percent-encoded like URL.pathname."""
    return "/" + quote(rel, safe="/!$&'()*+,;=:@-._~")


def urls_of(output: Path) -> list[str]:
    """Every URL the output serves: each file, and each folder that has an index.html."""
    urls = []
    for path in sorted(output.rglob("*")):
        rel = path.relative_to(output).as_posix()
        if path.is_file() and path.name not in ("_headers", "_redirects"):
            urls.append(browser_path(rel))
            if path.name == "index.html":
                urls.append(browser_path(rel[: -len("index.html")]))
    return urls


def cache_control(rules, url, host="cloudflare"):
    return response_headers(rules, url, host).get("cache-control")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("headers")
    site = make_site(root, images=("a", "deep/b", "odd <script>x</script>"))
    write_files(site, {"_site/_headers": USER_RULES, "g/collection.toml": 'images = ["../a", "../deep/*"]\n'})
    report = build_site(site, progress="quiet")
    return site, report


def test_versioned_files_are_immutable_and_open_to_other_origins(built):
    site, _ = built
    rules = parse_headers_file((site / "_site" / "_headers").read_text())
    for url in (
        "/a/dzi/v0/dzi.xml",
        "/a/dzi/v0/dzi_files/9/1_0.jpg",
        "/deep/b/dzi/v0/dzi_files/0/0_0.jpg",
        "/odd%20%3Cscript%3Ex%3C/script%3E/dzi/v0/dzi.xml",
        "/_dzbuild/openseadragon/0.0.0-test/openseadragon.min.js",
    ):
        for host in ("cloudflare", "netlify"):
            headers = response_headers(rules, url, host)
            assert headers["cache-control"] == [IMMUTABLE_VALUE], (url, host)
            assert headers["access-control-allow-origin"] == ["*"], (url, host)


def test_pages_revalidate(built):
    site, _ = built
    rules = parse_headers_file((site / "_site" / "_headers").read_text())
    for url in ("/", "/a/", "/deep/b/", "/odd%20%3Cscript%3Ex%3C/script%3E/"):
        assert cache_control(rules, url) == [REVALIDATE_VALUE], url
        assert response_headers(rules, url, "netlify")["access-control-allow-origin"] == ["*"], url  # as Cloudflare


def test_no_two_rules_set_the_same_header_on_any_served_path(built):
    site, _ = built
    rules = parse_headers_file((site / "_site" / "_headers").read_text())
    urls = urls_of(site / "_site")
    assert len(urls) > 50
    for host in ("cloudflare", "netlify"):
        for url in urls:
            for name, values in response_headers(rules, url, host).items():
                assert len(values) == 1, f"{host}: {url} gets {name} from {len(values)} rules: {values}"


def test_the_sites_own_rules_are_kept_verbatim_first_and_still_apply(built):
    site, _ = built
    text = (site / "_site" / "_headers").read_text()
    assert text.startswith(USER_RULES.rstrip("\n") + "\n\n# dzbuild:begin")
    rules = parse_headers_file(text)
    assert response_headers(rules, "/a/dzi/v0/dzi.xml")["x-frame-options"] == ["DENY"]
    assert cache_control(rules, "/blog/post/") == ["public, max-age=600"]


def test_a_rerun_leaves_the_file_byte_identical(built):
    site, _ = built
    path = site / "_site" / "_headers"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    build_site(site, progress="quiet")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_site_rule_setting_the_same_header_wins_with_a_warning(tmp_path):
    site = make_site(tmp_path, images=("a", "b"))
    write_files(site, {"_site/_headers": "/a/*\n  Cache-Control: no-store\n"})
    report = build_site(site, progress="quiet")
    rules = parse_headers_file((site / "_site" / "_headers").read_text())
    assert cache_control(rules, "/a/dzi/v0/dzi.xml") == ["no-store"]
    assert cache_control(rules, "/a/") == ["no-store"]
    assert response_headers(rules, "/a/dzi/v0/dzi.xml")["access-control-allow-origin"] == ["*"]
    assert cache_control(rules, "/b/dzi/v0/dzi.xml") == [IMMUTABLE_VALUE]
    assert any("the site's rule '/a/*' already sets cache-control" in w for w in report.warnings)


def test_a_base_path_prefixes_every_rule(tmp_path):
    site = make_site(tmp_path, config='base_url = "https://example.org/zoom/"\n', images=("a",))
    rules = (
        parse_headers_file((site / "_site" / "_headers").read_text()) if build_site(site, progress="quiet") else None
    )
    assert all(rule.path.startswith("/zoom/") for rule in rules)
    assert cache_control(rules, "/zoom/a/dzi/v0/dzi.xml") == [IMMUTABLE_VALUE]


def fake_output(tmp_path, rels):
    for rel in rels:
        (tmp_path / rel / "dzi" / "v0").mkdir(parents=True)
    return tmp_path


def test_many_images_fit_in_100_rules_by_folder_depth(tmp_path):
    rels = [f"scans/s{n:03}" for n in range(150)] + [f"top{n}" for n in range(5)]
    images = [ImageInfo(rel, 10, 10, 8, "jpg", 1) for rel in rels]
    required, pages = site_rules("/", images, [], fake_output(tmp_path, rels), ("dzi",), True)
    with pytest.warns(HeadersWarning, match="page rules left out"):
        text = render_headers(USER_RULES, required, pages)
    rules = parse_headers_file(text)
    assert len(rules) <= 100
    assert {"/:p1/dzi/v*", "/:p1/:p2/dzi/v*"} <= {rule.path for rule in rules}
    for rel in rels:
        assert cache_control(rules, f"/{rel}/dzi/v0/dzi_files/3/0_0.jpg") == [IMMUTABLE_VALUE]
        assert cache_control(rules, f"/{rel}/") is None  # the host's default: revalidate
        for path in (f"/{rel}/dzi/v0/dzi.xml", f"/{rel}/iiif/manifest.json", f"/{rel}/"):
            assert response_headers(rules, path, "netlify")["access-control-allow-origin"] == ["*"], path


def test_on_cloudflare_page_rules_that_do_not_fit_become_one_rule_per_folder_depth(tmp_path, recwarn):
    rels = [f"scans/s{n:03}" for n in range(150)] + [f"top{n}" for n in range(5)]
    images = [ImageInfo(rel, 10, 10, 8, "jpg", 1) for rel in rels]
    required, pages = site_rules("/", images, [], fake_output(tmp_path, rels), ("dzi",), True)
    own = USER_RULES.split("/blog/*")[0]  # one rule without Cache-Control
    rules = parse_headers_file(render_headers(own, required, pages, "cloudflare-pages"))
    assert not [w for w in recwarn if issubclass(w.category, HeadersWarning)]
    assert {"/", "/:p1/", "/:p1/:p2/", "/:p1/:p2/:p3/"} <= {rule.path for rule in rules}
    index_pages = ["/", "/_dzbuild/index/2/"]  # 155 images: two pages of the index
    for url in [f"/{rel}/" for rel in rels] + index_pages:
        assert cache_control(rules, url) == [REVALIDATE_VALUE], url  # every page, once
    for rel in rels:  # no page rule reaches a file
        assert cache_control(rules, f"/{rel}/dzi/v0/dzi.xml") == [IMMUTABLE_VALUE]
        assert cache_control(rules, f"/{rel}/index.json") is None
    assert response_headers(rules, "/top1/")["x-frame-options"] == ["DENY"]


def test_a_site_rule_setting_cache_control_inside_a_depth_rules_reach_keeps_it_out(tmp_path):
    rels = [f"s{n:03}" for n in range(120)]
    images = [ImageInfo(rel, 10, 10, 8, "jpg", 1) for rel in rels]
    required, pages = site_rules("/", images, [], fake_output(tmp_path, rels), ("dzi",), True)
    with pytest.warns(HeadersWarning, match="already sets cache-control"):
        text = render_headers(USER_RULES + "/about/\n  Cache-Control: no-store\n", required, pages, "cloudflare-pages")
    rules = parse_headers_file(text)
    assert cache_control(rules, "/about/") == ["no-store"]  # never joined with dzbuild's value
    assert cache_control(rules, "/blog/2024/") == ["public, max-age=600"]
    assert cache_control(rules, "/s001/") is None  # its depth's rule is left out: the host's default, revalidate
    assert cache_control(rules, "/s001/dzi/v0/dzi.xml") == [IMMUTABLE_VALUE]


def test_depth_rules_are_not_used_when_another_folder_has_a_dzi_child(tmp_path):
    rels = [f"s{n:03}" for n in range(60)]
    output = fake_output(tmp_path, rels + ["notes"])  # "notes/dzi" is not an image
    images = [ImageInfo(rel, 10, 10, 8, "jpg", 1) for rel in rels]
    required, _ = site_rules("/", images, [], output, ("dzi",), True)
    assert "/:p1/dzi/v*" not in {rule.path for rule in required}
    assert "/s000/dzi/v*" in {rule.path for rule in required}


def test_rules_beyond_the_limits_are_left_out_with_a_warning():
    long = Rule("/" + "x" * 2100 + "/*", [("Cache-Control", "no-cache")])
    many = [Rule(f"/r{n}/*", [("X-N", str(n))]) for n in range(120)]
    with pytest.warns(HeadersWarning) as caught:
        text = render_headers("", [long, *many], [])
    rules = parse_headers_file(text)
    assert len(rules) == 99 and all(len(rule.path) < 100 for rule in rules)
    messages = " ".join(str(w.message) for w in caught)
    assert "only 100 fit" in messages and "longer than 2000 characters" in messages


def test_merge_replaces_only_the_block_between_the_markers():
    first = render_headers("/x\n  A: 1\n", [Rule("/old/*", [("B", "2")])], [])
    edited = first + "\n/y\n  C: 3\n"
    second = render_headers(edited, [Rule("/new/*", [("B", "2")])], [])
    assert "/old/*" not in second and "/new/*" in second
    assert second.startswith("/x\n  A: 1\n") and "/y\n  C: 3" in second
    assert second.count("# dzbuild:begin") == 1


def test_collection_versions_get_one_rule_unless_a_neighbour_starts_with_v(tmp_path):
    from dzbuild.site.pages import CollectionInfo

    for name in ("v0", "v1", "alpha"):
        (tmp_path / "g" / name).mkdir(parents=True)
    collection = CollectionInfo("g", "g", "g", "v1/g.dzc")
    required, _ = site_rules("/", [], [collection], tmp_path, ("dzi",), True)
    assert "/g/v*" in {rule.path for rule in required}
    (tmp_path / "g" / "vista").mkdir()  # an image folder inside the collection's folder
    required, pages = site_rules("/", [], [collection], tmp_path, ("dzi",), True)
    rules = parse_headers_file(render_headers("", required, pages + [Rule("/g/vista/", list(REVALIDATE))]))
    assert {"/g/v0/*", "/g/v1/*"} <= {rule.path for rule in rules} and "/g/v*" not in {rule.path for rule in rules}
    assert cache_control(rules, "/g/vista/") == [REVALIDATE_VALUE]
    assert cache_control(rules, "/g/v1/g_files/0/0_0.jpg") == [IMMUTABLE_VALUE]


def test_a_sites_own_cross_origin_rule_wins_and_is_sent_once(tmp_path):
    own = "/*\n  Access-Control-Allow-Origin: https://mine.example\n"
    images = [ImageInfo("a", 10, 10, 8, "jpg", 2)]
    required, pages = site_rules("/", images, [], fake_output(tmp_path, ["a"]), ("dzi", "iiif"), True)
    with pytest.warns(HeadersWarning, match="already sets access-control-allow-origin"):
        rules = parse_headers_file(render_headers(own, required, pages))
    for path in ("/a/dzi/v1/dzi.xml", "/a/iiif/manifest.json", "/"):
        for host in ("cloudflare", "netlify"):
            assert response_headers(rules, path, host)["access-control-allow-origin"] == ["https://mine.example"]

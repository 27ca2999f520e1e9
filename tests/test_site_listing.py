"""The index in pages: bounded pages joined by plain links, and the JSON list the filter searches."""

from __future__ import annotations

import json
import posixpath

from test_site_pages import parse, renderer

from dzbuild.site import listing
from dzbuild.site.pages import CollectionInfo, ImageInfo, url_path


def images(count: int) -> list[ImageInfo]:
    return [ImageInfo(f"box {n // 50}/scan <{n}>", 900, 600, 256, "jpg", 1 + n % 3) for n in range(count)]


def resolve(page_rel: str, href: str) -> str:
    """The output path a relative link on the page at ``page_rel`` (``x/index.html``) points to."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), href))
    return "" if target == "." else target


def test_pages_hold_a_bounded_number_of_images_in_order():
    pages = listing.split(list(range(250)), size=120)
    assert [(p.number, p.first, len(p.images)) for p in pages] == [(1, 0, 120), (2, 120, 120), (3, 240, 10)]
    assert [p.folder for p in pages] == ["", "_dzbuild/index/2", "_dzbuild/index/3"]
    assert [p.number for p in listing.split([])] == [1]  # an empty site still has its index


def test_navigation_shows_the_ends_and_a_window_around_the_current_page():
    assert listing.page_numbers(1, 1) == [1]
    assert listing.page_numbers(1, 4) == [1, 2, 3, 4]
    assert listing.page_numbers(10, 84) == [1, None, 8, 9, 10, 11, 12, None, 84]
    assert listing.page_numbers(84, 84) == [1, None, 82, 83, 84]


def test_following_the_page_links_reaches_every_image_exactly_once():
    site = images(2 * listing.PAGE_SIZE + 7)
    pages = dict(renderer().index_pages(site, []))
    assert len(pages) == 4  # three pages and the list
    seen, todo, cards = set(), ["index.html"], []
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        tags = parse(pages[rel]).tags
        cards += [resolve(rel, a["href"]) for tag, a in tags if tag == "a" and a.get("class") == "card"]
        nav = [resolve(rel, a["href"]) for tag, a in tags if tag == "a" and ("aria-label" in a or a.get("rel"))]
        todo += [posixpath.join(target, "index.html") if target else "index.html" for target in nav]
    assert seen == {"index.html", "_dzbuild/index/2/index.html", "_dzbuild/index/3/index.html"}
    assert sorted(cards) == sorted(url_path(image.rel) for image in site)


def test_the_filter_form_is_labelled_and_hidden_until_its_script_runs():
    _, html = renderer().index_pages(images(3), [])[0]
    tags = parse(html).tags
    form = next(attrs for tag, attrs in tags if tag == "form")
    assert form["role"] == "search" and "hidden" in form and form["data-list"] == "./_dzbuild/index.json"
    field = next(attrs for tag, attrs in tags if tag == "input")
    label = next(attrs for tag, attrs in tags if tag == "label")
    assert label["for"] == field["id"] and field["type"] == "search"
    assert not any(tag == "nav" for tag, _ in tags)  # one page: no page links


def test_later_pages_link_back_to_the_root_and_show_no_collection_cards():
    site = images(listing.PAGE_SIZE + 1)
    gallery = CollectionInfo("g", "Gallery", "g", "v0/g.dzc", site[:4])
    (first, one), (second, two), (list_rel, document) = renderer().index_pages(site, [gallery])
    assert (first, second, list_rel) == ("index.html", "_dzbuild/index/2/index.html", "_dzbuild/index.json")
    assert b"Gallery" in one and b"Gallery" not in two
    tags = parse(two).tags
    previous = next(a["href"] for tag, a in tags if tag == "a" and a.get("rel") == "prev")
    assert previous == "../../../" and resolve(second, previous) == ""
    card = next(a["href"] for tag, a in tags if tag == "a" and a.get("class") == "card")
    assert card == "../../../box%202/scan%20%3C120%3E/"
    entries = json.loads(document)["images"]
    assert len(entries) == len(site)
    assert entries[120] == {
        "title": "scan <120>", "url": "box%202/scan%20%3C120%3E/",
        "thumbnail": "dzi/v0/dzi_files/8/0_0.jpg",  # 225 x 150: the largest one-tile level
        "width": 900, "height": 600,
    }  # fmt: skip


def test_a_collection_of_thousands_pages_its_gallery_under_one_viewer_each():
    members = images(3000)
    gallery = CollectionInfo("g", "Gallery", "g", "./v0/g.dzc", members)
    pages = renderer().collection_pages(gallery)
    assert [rel for rel, _ in pages][:3] == ["g/index.html", "_dzbuild/collections/g/2/index.html",
                                             "_dzbuild/collections/g/3/index.html"]  # fmt: skip
    assert len(pages) == -(-3000 // listing.GALLERY_SIZE)
    assert max(len(html) for _, html in pages) < 150 * 1024
    reached, dzc = [], set()
    for rel, html in pages:
        tags = parse(html)
        reached += [resolve(rel, a["href"]) for tag, a in tags.tags if tag == "a" and "data-dzi" in a]
        (settings,) = tags.scripts
        page = json.loads(settings)
        dzc.add(resolve(rel, page["descriptor"]))  # every page's viewer opens the same .dzc
        assert page["items"] == []  # the .dzc lists the items: the page need not
    assert sorted(reached) == sorted(url_path(image.rel) for image in members)
    assert dzc == {"g/v0/g.dzc"}
    nav = [a for tag, a in parse(pages[1][1]).tags if tag == "a" and a.get("rel") == "prev"]
    assert [resolve(pages[1][0], a["href"]) for a in nav] == ["g"]  # back to the collection's own page

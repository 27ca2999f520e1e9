"""The index of a 2,500-image site (tests/bigsite.py): bounded pages that reach every image by plain links,
and a filter that finds an image by name in headless Chromium, with the pages' links working without
JavaScript."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin

from bigsite import IMAGES, big_site, image_name  # noqa: F401 (big_site: the fixture)
from viewerpages import chromium

from dzbuild.testing.viewer import serve_folder

MAX_PAGE = 150 * 1024


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attrs = dict(attrs)
            self.links.append((attrs.get("href"), attrs))


def page_file(output, rel: str):
    return output / rel / "index.html" if rel else output / "index.html"


def crawl(output) -> tuple[set[str], list[str]]:
    """Follow the index's page links from the root: (the pages' folders, the images their cards link)."""
    pages, todo, images = set(), [""], []
    while todo:
        folder = todo.pop()
        if folder in pages:
            continue
        pages.add(folder)
        parser = Links()
        parser.feed(page_file(output, folder).read_text(encoding="utf-8"))
        for href, attrs in parser.links:
            target = posixpath.normpath(posixpath.join(folder, unquote(href))).removeprefix(".")
            if attrs.get("class") == "card":
                images.append(target)
            elif attrs.get("rel") in ("prev", "next") or attrs.get("aria-label", "").startswith("Page "):
                todo.append(target)
    return pages, images


def test_every_index_page_is_small_and_together_they_reach_every_image_once(big_site):  # noqa: F811
    output = big_site / "_site"
    pages, images = crawl(output)
    assert len(pages) > 1
    sizes = {folder: page_file(output, folder).stat().st_size for folder in pages}
    assert max(sizes.values()) < MAX_PAGE, sorted(sizes.items(), key=lambda item: -item[1])[:3]
    assert sorted(images) == sorted(image_name(n) for n in range(IMAGES))
    for image in images[:: IMAGES // 10]:
        assert (output / image / "index.html").is_file()  # the card links a real page


def test_the_filter_finds_an_image_by_name_from_a_later_page(big_site):  # noqa: F811
    wanted = image_name(1234)
    with serve_folder(big_site / "_site") as url, chromium() as browser:
        page = browser.new_page()
        failed = []
        page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(urljoin(url, "_dzbuild/index/7/"))
        box = page.get_by_label("Find an image by name")
        box.focus()
        page.keyboard.type("PLATE-1234")  # ignoring case
        page.wait_for_selector("#filter-results a.card")
        found = page.eval_on_selector_all("#filter-results a.card", "cards => cards.map(c => c.href)")
        status = page.inner_text("#filter-status")
        assert page.is_hidden("#browse")
        page.keyboard.press("Tab")  # the keyboard reaches the first result
        focused = page.evaluate("document.activeElement.href")
        index_errors = list(errors)
        page.keyboard.press("Enter")
        page.wait_for_url(urljoin(url, wanted + "/"))  # its page (whose stand-in OpenSeadragon fails to start)
        errors.clear()
        page.goto(urljoin(url, "?q=decade-12"))  # a search URL: every tenth image of 1200-1299
        page.wait_for_selector("#filter-results a.card")
        decade = page.eval_on_selector_all("#filter-results a.card", "cards => cards.length")
        page.close()
    assert found == [urljoin(url, wanted + "/")] and status == "1 image matches."
    assert focused == found[0]
    assert decade == 10
    assert failed == [] and index_errors == [] and errors == []


def test_without_javascript_the_filter_stays_hidden_and_the_page_links_work(big_site):  # noqa: F811
    with serve_folder(big_site / "_site") as url, chromium() as browser:
        page = browser.new_page(java_script_enabled=False)
        page.goto(url)
        hidden = page.is_hidden("#filter")
        page.get_by_role("navigation", name="Pages of the index").get_by_role("link", name="Next").click()
        page.wait_for_url(urljoin(url, "_dzbuild/index/2/"))
        cards = page.eval_on_selector_all("#browse a.card", "cards => cards.length")
        current = page.get_attribute("nav a[aria-current=page]", "aria-label")
        page.close()
    assert hidden and cards == 120 and current == "Page 2, this page"

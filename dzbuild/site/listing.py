"""The index and collections at any size: pages of a bounded number of cards, linked in order, and
the JSON list of every image that the index's filter searches.

One page of 10,000 cards is megabytes of HTML that a browser lays out before anyone can scroll, so
the index splits into pages of ``PAGE_SIZE`` images: the first at the output's root, the others at
``_dzbuild/index/N/`` (a folder no image can take). Plain links join them, so every image is
reachable with JavaScript off; with it on, the filter finds an image by name on any page from
``_dzbuild/index.json`` (title, URL, thumbnail and size of each image, fetched on first use: about
140 bytes an image, a fifth of that compressed). A collection's gallery splits the same way, its
further pages at ``_dzbuild/collections/PATH/N/``, each with the collection's viewer above it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PAGE_SIZE = 120  # cards a page: about 40 KB of HTML, divisible into rows of 2 to 6
GALLERY_SIZE = 240  # a collection's gallery: smaller cards, under the collection's viewer
PAGES_DIR = "_dzbuild/index"  # page N (N >= 2) is PAGES_DIR/N/index.html
GALLERY_DIR = "_dzbuild/collections"  # a collection's page N (N >= 2): GALLERY_DIR/PATH/N/index.html
LIST_FILE = "_dzbuild/index.json"
WINDOW = 2  # page links shown either side of the current one; the first and the last always


@dataclass(frozen=True)
class IndexPage:
    """One page of the index: its number (1-based), the images it shows and how many pages there are."""

    number: int
    count: int
    first: int  # index of its first image in the site's list
    images: tuple
    home: str = ""  # the first page's folder: the output's root for the index, a collection's folder
    further: str = PAGES_DIR  # where the pages after the first go

    @property
    def folder(self) -> str:
        return page_folder(self.number, self.home, self.further)


def page_folder(number: int, home: str = "", further: str = PAGES_DIR) -> str:
    """The output folder of page ``number``: ``home`` for the first, ``further/N`` for the others."""
    return home if number == 1 else f"{further}/{number}"


def split(images: list, size: int = PAGE_SIZE, home: str = "", further: str = PAGES_DIR) -> list[IndexPage]:
    """A list's pages, in its order; an empty list still has its first page."""
    count = max(1, -(-len(images) // size))
    return [
        IndexPage(n, count, (n - 1) * size, tuple(images[(n - 1) * size : n * size]), home, further)
        for n in range(1, count + 1)
    ]


def gallery(collection) -> list[IndexPage]:
    """A collection's pages: the first in its own folder, the others under ``GALLERY_DIR``."""
    return split(collection.members, GALLERY_SIZE, collection.path, f"{GALLERY_DIR}/{collection.path}")


def page_numbers(current: int, count: int) -> list[int | None]:
    """The numbers a page's navigation links: first, last and a window around ``current``; None is a gap."""
    shown = sorted({1, count, *range(max(1, current - WINDOW), min(count, current + WINDOW) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def list_entry(item: dict) -> dict:
    """What the filter needs of one image card (``pages._item`` seen from the root): no more."""
    url = item["url"]
    return {
        "title": item["title"],
        "url": url.removeprefix("./"),
        "thumbnail": item["thumbnail"].removeprefix(url),  # relative to the image's folder: a third shorter
        "width": item["width"],
        "height": item["height"],
    }


def list_document(items: list[dict]) -> bytes:
    """``_dzbuild/index.json``: one compact line per image, so a diff shows which image changed."""
    lines = ",\n".join(json.dumps(list_entry(item), ensure_ascii=False, separators=(",", ":")) for item in items)
    return ('{"images":[\n' + lines + "\n]}\n").encode("utf-8")

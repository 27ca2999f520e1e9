"""Finding image-folder images in Markdown; everything else stays byte for byte."""

from __future__ import annotations

from dzbuild.integrations.markdown import page_url_dir, relative_url, replace_images, resolve


def fake(target, alt, title):
    return f'<div t="{target}" a="{alt}" c="{title}"></div>' if "zoom" in target else None


def test_an_image_alone_on_its_line_becomes_a_block():
    assert replace_images("# T\n![Harbour](zoom/harbour/)\nafter\n", fake) == (
        '# T\n<div t="zoom/harbour/" a="Harbour" c="None"></div>\nafter\n'
    )


def test_inline_image_splits_the_paragraph_and_keeps_the_title():
    text = 'See ![x](zoom/h "Cap") here\n'
    assert replace_images(text, fake) == 'See\n\n<div t="zoom/h" a="x" c="Cap"></div>\n\nhere\n'


def test_code_other_images_and_fences_are_untouched():
    text = "`![a](zoom/h)` and ![b](b.png) and ``![c](zoom/h)``\n```\n![d](zoom/h)\n```\n~~~~\n![e](zoom/h)\n~~~~\n"
    assert replace_images(text, fake) == text


def test_indent_is_kept_for_list_items():
    out = replace_images("- item\n\n    ![x](zoom/h)\n", lambda *a: "<div>\n</div>")
    assert out == "- item\n\n    <div>\n    </div>\n"


def test_resolve_against_the_page_folder():
    assert resolve("zoom/harbour/", "guide") == "guide/zoom/harbour"
    assert resolve("../zoom/harbour", "guide") == "zoom/harbour"
    assert resolve("/zoom/harbour", "guide") == "zoom/harbour"
    assert resolve("zoom/my%20image/#top", "") == "zoom/my image"
    assert resolve("../../x", "guide") is None and resolve("https://example.org/zoom/h", "") is None


def test_urls_between_page_folders():
    assert page_url_dir("guide/") == "guide" and page_url_dir("") == "" and page_url_dir("a/b.html") == "a"
    assert relative_url("guide", "zoom/harbour") == "../zoom/harbour"
    assert relative_url("", "zoom/harbour") == "zoom/harbour"
    assert relative_url("a/b", "") == "../.." and relative_url("", "") == ""

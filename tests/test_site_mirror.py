"""The site's output mirror places every file through the site's storage plugin."""

from __future__ import annotations

import os
from pathlib import Path

from sites import make_site

from dzbuild.default_plugins.storage_files import CopyStorage, HardlinkStorage, SymlinkStorage
from dzbuild.hookspecs import hookimpl
from dzbuild.site.build import build_site
from dzbuild.site.mirror import add_version, mirror_tree
from dzbuild.testing import make_image_folder, plugin_registered


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def inodes(root: Path) -> set[tuple[int, int]]:
    found = set()
    for path in files_under(root):
        st = os.stat(path)
        found.add((st.st_dev, st.st_ino))
    return found


def version_files(output: Path) -> list[Path]:
    """Every file of every published version folder in a site's output (tiles, descriptors, .dzc)."""
    return [p for p in files_under(output) if any(part[:1] == "v" and part[1:].isdigit() for part in p.parts)]


def small_cache_version(root: Path) -> Path:
    """A cache version folder with a nested tile, a descriptor and a tile that is a link to a source."""
    src = root / "cache" / "dzi" / "v0"
    (src / "dzi_files" / "0").mkdir(parents=True)
    (src / "dzi.xml").write_bytes(b"<Image/>\n")
    (src / "dzi_files" / "0" / "0_0.jpg").write_bytes(b"tile")
    (root / "sources").mkdir()
    (root / "sources" / "1_0.jpg").write_bytes(b"source tile")
    os.symlink(
        os.path.relpath(root / "sources" / "1_0.jpg", src / "dzi_files" / "0"), src / "dzi_files" / "0" / "1_0.jpg"
    )
    return src


def test_add_version_with_each_storage(tmp_path):
    src = small_cache_version(tmp_path)
    for storage in (HardlinkStorage(), SymlinkStorage(), CopyStorage()):
        out = tmp_path / storage.name / "v0"
        assert add_version(src, out, storage) == 1
        assert add_version(src, out, storage) == 0  # published versions are linked once
        tiles = out / "dzi_files" / "0"
        assert (out / "dzi.xml").read_bytes() == b"<Image/>\n"
        assert (tiles / "0_0.jpg").read_bytes() == b"tile" and (tiles / "1_0.jpg").read_bytes() == b"source tile"
        same = os.path.samefile(tiles / "1_0.jpg", tmp_path / "sources" / "1_0.jpg")
        if storage.name == "symlink":
            link = os.readlink(tiles / "1_0.jpg")
            assert not os.path.isabs(link) and same
            assert (tiles / link).resolve() == tmp_path / "sources" / "1_0.jpg"  # the physical file, not a link
        elif storage.name == "hardlink":
            assert same and not (tiles / "1_0.jpg").is_symlink()
        else:
            assert not same and not (tiles / "1_0.jpg").is_symlink()
    assert not list(tmp_path.rglob(".*partial*"))


def test_mirror_tree_replaces_a_changed_loose_file_through_the_storage(tmp_path):
    src = tmp_path / "cache"
    (src / "v0").mkdir(parents=True)
    (src / "v0" / "t.jpg").write_bytes(b"t")
    (src / "extra.json").write_bytes(b"{}")
    (src / ".state").write_bytes(b"hidden")
    out = tmp_path / "out"
    assert mirror_tree(src, out, CopyStorage()) == 1
    (src / "extra.json").write_bytes(b'{"a": 1}')
    assert mirror_tree(src, out, CopyStorage()) == 0
    assert (out / "extra.json").read_bytes() == b'{"a": 1}' and not (out / ".state").exists()


class FlatFormat:
    """A second format, so that link-only formats are mirrored too."""

    name = "flat"
    descriptor = "info.json"

    def dirs(self, grid):
        return ["tiles"]

    def tile_path(self, grid, tile, ext):
        return f"tiles/{tile.level}-{tile.col}-{tile.row}.{ext}"

    def descriptors(self, spec, grid, context):
        return {self.descriptor: b"{}"}

    def viewer_source(self, descriptor_url, spec):
        return None


class FlatPlugin:
    @hookimpl
    def register_formats(self, register):
        register(FlatFormat())


def test_copy_storage_output_shares_no_inode_with_the_cache_or_the_sources(tmp_path):
    site = make_site(tmp_path, config='storage = "copy"\nformats = ["dzi", "flat"]\n', images=("a", "g/b"))
    (site / "g" / "collection.toml").write_text('title = "G"\n')
    with plugin_registered(FlatPlugin(), "test-flat"):
        build_site(site, progress="quiet", jobs=1)
    output = site / "_site"
    placed = version_files(output)
    assert len(placed) > 30 and any(p.suffix == ".dzc" for p in placed)
    assert not any(p.is_symlink() for p in placed)
    elsewhere = inodes(site / ".dzbuild") | inodes(site / "a") | inodes(site / "g" / "b")
    assert not inodes(output) & elsewhere


def test_symlink_storage_output_links_into_the_cache(tmp_path):
    site = make_site(tmp_path, config='storage = "symlink"\n', images=("a",))
    build_site(site, progress="quiet", jobs=1)
    cache, sources = (site / ".dzbuild").resolve(), (site / "a").resolve()
    for path in version_files(site / "_site"):
        assert path.is_symlink() and not os.path.isabs(os.readlink(path))
        real = path.resolve()
        assert cache in real.parents or sources in real.parents


class Recording(CopyStorage):
    """Copies, and appends each placement to a log file: workers are forked, so a list would not do."""

    name = "recording"

    def __init__(self, log: Path) -> None:
        self.log = log

    def _note(self, path: str) -> None:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(os.path.abspath(path) + "\n")

    def write(self, path: str, data: bytes) -> None:
        self._note(path)
        super().write(path, data)

    def link(self, target: str, path: str) -> None:
        self._note(path)
        super().link(target, path)


def test_a_recording_storage_sees_every_file_of_the_output(tmp_path):
    """Tiles, descriptors, collection files, and the mirror into the output: all placed by the storage."""
    log = tmp_path / "placed.log"

    class Plugin:
        @hookimpl
        def register_storages(self, register):
            register(Recording(log))

    site = make_site(tmp_path, config='storage = "recording"\nformats = ["dzi", "flat"]\n', images=("a", "g/b"))
    (site / "g" / "collection.toml").write_text('title = "G"\n')
    make_image_folder(site / "o", 300, 200, 128, overlap=1, seed=7)  # published tiles cut from a core
    with plugin_registered(Plugin(), "test-recording"), plugin_registered(FlatPlugin(), "test-flat"):
        build_site(site, progress="quiet", jobs=2)
        (site / "a" / "v1").mkdir()
        (site / "a" / "v1" / "0_0.jpg").write_bytes((site / "o" / "v0" / "0_0.jpg").read_bytes())
        build_site(site, progress="quiet", jobs=2)  # v1: links to v0's files
    placed = {_final(line) for line in log.read_text().splitlines()}
    output, cache = site / "_site", site / ".dzbuild" / "tree"
    expected = {str(p.resolve()) for p in version_files(output)}
    assert len(expected) > 100 and expected <= placed
    assert any("/a/dzi/v1/" in path for path in expected) and any("/o/flat/v0/" in path for path in expected)
    cached = {str(p.resolve()) for p in version_files(cache)}
    assert any("/o/core/v0/" in path for path in cached) and cached <= placed


def _final(path: str) -> str:
    """A path assembled under ``.v{n}.partial-{pid}`` (or ``.name.partial-...``) as it is once renamed."""
    parts = Path(path).parts
    fixed = [part[1:].split(".partial-")[0] if ".partial-" in part else part for part in parts]
    return str(Path(*fixed).resolve())

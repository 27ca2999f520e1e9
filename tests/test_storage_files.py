"""The built-in storages' bulk path: ``link_into`` links, follows linked sources, and falls back to copies."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dzbuild.default_plugins.storage_files import HardlinkStorage
from dzbuild.testing import unavailable


def folders(tmp_path: Path, names: list[str]) -> tuple[Path, Path]:
    source, dest = tmp_path / "source", tmp_path / "dest"
    source.mkdir()
    dest.mkdir()
    for number, name in enumerate(names):
        (source / name).write_bytes(bytes([number]) * 10)
    return source, dest


def test_link_into_makes_hard_links_with_the_same_names(tmp_path):
    names = ["0_0.jpg", "1_0.jpg", "0_1.jpg"]
    source, dest = folders(tmp_path, names)
    HardlinkStorage().link_into(str(source), str(dest), names)
    for name in names:
        assert os.path.samefile(source / name, dest / name)


def test_a_source_that_is_a_symbolic_link_is_followed(tmp_path):
    source, dest = folders(tmp_path, ["real.jpg"])
    (source / "0_0.jpg").symlink_to("real.jpg")
    HardlinkStorage().link_into(str(source), str(dest), ["0_0.jpg"])
    assert not (dest / "0_0.jpg").is_symlink()  # never a link to a link, nor a dangling relative one
    assert os.path.samefile(dest / "0_0.jpg", source / "real.jpg")


def test_across_filesystems_the_rest_are_copied(tmp_path, monkeypatch):
    names = ["0_0.jpg", "1_0.jpg", "2_0.jpg"]
    source, dest = folders(tmp_path, names)
    real_link = os.link
    calls = []

    def link(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(*args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    storage = HardlinkStorage()
    storage.link_into(str(source), str(dest), names)
    assert os.path.samefile(source / "0_0.jpg", dest / "0_0.jpg")
    for name in names[1:]:  # from the first refusal on: copies, and no further attempt to link
        assert (dest / name).read_bytes() == (source / name).read_bytes()
        assert not os.path.samefile(source / name, dest / name)
    assert calls == ["0_0.jpg", "1_0.jpg"] and storage.copying


def test_any_other_error_names_the_output_file(tmp_path):
    source, dest = folders(tmp_path, ["0_0.jpg"])
    (dest / "0_0.jpg").write_bytes(b"already here")
    with pytest.raises(FileExistsError) as caught:
        HardlinkStorage().link_into(str(source), str(dest), ["0_0.jpg"])
    assert caught.value.filename == f"{dest}/0_0.jpg"


@pytest.fixture
def other_filesystem(tmp_path):
    """A folder on another file system than ``tmp_path``: /dev/shm, or a tmpfs mounted here (root)."""
    import subprocess
    import tempfile

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
        with tempfile.TemporaryDirectory(dir=shm) as folder:
            yield Path(folder)
        return
    mount = tmp_path / "other"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True).returncode:
        unavailable("no second file system: /dev/shm is missing and a tmpfs cannot be mounted (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_refused_link_across_file_systems_does_not_make_later_links_copies(tmp_path, other_filesystem):
    foreign, _ = folders(other_filesystem, ["0_0.jpg"])
    local, dest = folders(tmp_path, ["1_0.jpg", "2_0.jpg"])
    storage = HardlinkStorage()
    storage.link_into(str(foreign), str(dest), ["0_0.jpg"])  # EXDEV: copied
    assert (dest / "0_0.jpg").read_bytes() == (foreign / "0_0.jpg").read_bytes()
    storage.link_into(str(local), str(dest), ["1_0.jpg"])
    storage.link(str(local / "2_0.jpg"), str(dest / "2_0.jpg"))
    for name in ("1_0.jpg", "2_0.jpg"):
        assert os.path.samefile(local / name, dest / name)
    storage.link(str(foreign / "0_0.jpg"), str(dest / "again.jpg"))  # that pair still copies, without a new try
    assert (dest / "again.jpg").stat().st_nlink == 1


def test_sources_on_another_file_system_still_share_unchanged_tiles_in_dest(tmp_path, other_filesystem):
    """The issue's case: six one-tile versions, sources elsewhere; dest's versions share their unchanged tiles."""
    from imagedirs import add_version, base, make_image_dir

    from dzbuild.maintain.check import check_dest
    from dzbuild.pyramid.build import BuildOptions, build_pyramid

    def build(root: Path, dest: Path) -> list[os.stat_result]:
        image_dir, spec, pixels = make_image_dir(root, 300, 200, 64)
        for number in range(1, 6):
            pixels = add_version(image_dir, spec, number, [base(spec, number % 5, 1)], seed=number, pixels=pixels)
        build_pyramid(image_dir, dest, options=BuildOptions(jobs=1))
        return [p.stat() for p in (dest / "dzi").rglob("*") if p.is_file()]

    apart = build(other_filesystem, tmp_path / "apart")
    together = build(tmp_path / "src", tmp_path / "together")
    distinct = {(st.st_dev, st.st_ino) for st in apart}
    assert len(apart) == len(together)
    shared = len({(st.st_dev, st.st_ino) for st in together})
    assert len(distinct) == shared < len(apart) // 2, (len(distinct), len(apart))
    assert check_dest(tmp_path / "apart", deep=True) == []


def test_a_full_disk_while_copying_names_the_file_being_written(tmp_path, monkeypatch):
    import shutil

    from dzbuild.default_plugins.storage_files import CopyStorage

    source, dest = folders(tmp_path, ["0_0.jpg"])

    def full(src, dst, *args, **kwargs):  # what shutil's sendfile path raises: the source as filename
        raise OSError(errno.ENOSPC, "No space left on device", src)

    monkeypatch.setattr(shutil, "copyfile", full)
    hardlink = HardlinkStorage()
    hardlink.copying.add((os.stat(source).st_dev, os.stat(dest).st_dev))  # as if the sources were on another disk
    for storage in (CopyStorage(), hardlink):
        with pytest.raises(OSError) as caught:
            storage.link(str(source / "0_0.jpg"), str(dest / "0_0.jpg"))
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(dest / "0_0.jpg")

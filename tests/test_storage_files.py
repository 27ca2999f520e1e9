"""The built-in storages' bulk path: ``link_into`` links, follows linked sources, and falls back to copies."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dzbuild.default_plugins.storage_files import HardlinkStorage


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

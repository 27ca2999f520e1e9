"""Built-in storages: hard links (default), relative symbolic links, and plain copies."""

from __future__ import annotations

import errno
import os
import shutil

from dzbuild.api import hookimpl


def write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def physical(target: str) -> str:
    """The real file behind ``target``: a source tile may be a symbolic link within the image folder.

    Linking the link itself would publish a link to a link (symlink storage) or, since ``os.link``
    does not follow symbolic links on Linux, a copy of a relative link that is broken in ``dest/``.
    """
    return os.path.realpath(target) if os.path.islink(target) else target


def copy_file(target: str, path: str) -> None:
    """``shutil.copyfile``, whose errors name ``path``: a full disk is where the file is written, not read."""
    try:
        shutil.copyfile(target, path)  # follows a symbolic link too
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
            raise
        raise OSError(exc.errno, exc.strerror, path) from None


class CopyStorage:
    """Every tile is a real file: works on every host and filesystem, costs the most disk."""

    name = "copy"

    def write(self, path: str, data: bytes) -> None:
        write_file(path, data)

    def link(self, target: str, path: str) -> None:
        copy_file(target, path)


class HardlinkStorage(CopyStorage):
    """Unchanged tiles share the inode of their physical file; static hosts see ordinary files.

    Falls back to copying when the target is on another filesystem or links are not allowed, for
    that pair of filesystems only: sources on another disk must not turn every later placement
    between files of one disk into a copy.
    """

    name = "hardlink"
    _fallback_errors = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)

    def __init__(self) -> None:
        self.copying: set[tuple[int, int]] = set()  # (source device, destination device) pairs that cannot link

    def _pair(self, target: str, dest_dir: str) -> tuple[int, int]:
        return os.stat(target).st_dev, os.stat(dest_dir).st_dev

    def link(self, target: str, path: str) -> None:
        target = physical(target)  # os.link(follow_symlinks=True) still links the link itself on Linux
        if not self.copying or self._pair(target, os.path.dirname(path) or ".") not in self.copying:
            try:
                os.link(target, path)
                return
            except OSError as exc:
                if exc.errno not in self._fallback_errors:
                    raise
                self.copying.add(self._pair(target, os.path.dirname(path) or "."))
        copy_file(target, path)

    def link_into(self, target_dir: str, dest_dir: str, names: list[str]) -> None:
        """Link each of ``names`` in ``target_dir`` to the same name in ``dest_dir``: the hot path.

        ``linkat`` relative to two open folders resolves one short name per side instead of
        two long paths, and with ``AT_SYMLINK_FOLLOW`` (what ``os.link`` asks for when given
        folder descriptors) a source tile that is a symbolic link is followed without an
        ``lstat`` per tile. About twice as fast as ``link`` per tile.
        """
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        source, dest = os.open(target_dir, flags), os.open(dest_dir, flags)
        try:
            pair = os.fstat(source).st_dev, os.fstat(dest).st_dev
            for done, name in enumerate(names):
                if pair in self.copying:
                    for rest in names[done:]:  # a tile linked in from another disk is copied on its own
                        self.link(f"{target_dir}/{rest}", f"{dest_dir}/{rest}")
                    return
                try:
                    os.link(name, name, src_dir_fd=source, dst_dir_fd=dest)
                except OSError as exc:
                    if exc.errno not in self._fallback_errors:
                        raise OSError(exc.errno, exc.strerror, f"{dest_dir}/{name}") from None
                    self.copying.add(pair)
                    self.link(f"{target_dir}/{name}", f"{dest_dir}/{name}")
        finally:
            os.close(source)
            os.close(dest)


class SymlinkStorage(CopyStorage):
    """Relative symbolic links: the smallest output, but many static hosts drop or reject them."""

    name = "symlink"

    def link(self, target: str, path: str) -> None:
        os.symlink(os.path.relpath(physical(target), os.path.dirname(path)), path)


@hookimpl
def register_storages(register):
    register(HardlinkStorage())
    register(SymlinkStorage())
    register(CopyStorage())

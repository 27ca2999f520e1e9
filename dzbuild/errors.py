"""The errors dzbuild raises on purpose; the CLI prints them as one line and exits non-zero.

Every message is read by the person running the build, so it names the file and says what
is wrong and, where there is one, what to do instead.
"""

from __future__ import annotations

from pathlib import Path


def _one_line(text: str) -> str:
    """Escape control characters (a newline in a file name, say): every error stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class DzbuildError(Exception):
    """Base of every expected failure; the CLI shows ``str(error)`` without a traceback."""

    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(_one_line(f"{self.path}: {message}" if self.path else message))

    def __reduce__(self):  # keep the class and fields when raised inside a worker process
        return (type(self), (self.message, self.path))


class ConfigError(DzbuildError):
    """A ``pyramid.json``, ``dzbuild.toml`` or command-line value is invalid; seen by the site author."""

    exit_code = 2


class SourceError(DzbuildError):
    """A source tile or version folder is wrong (name, size, codec, gap); seen by the site author."""

    exit_code = 3


class PublishedError(DzbuildError):
    """A build would change a published version, which CDNs cache forever; seen by the site author."""

    exit_code = 4


class PluginError(DzbuildError):
    """A plugin broke the hook contract; seen by the plugin's author, so it names plugin and hook."""

    exit_code = 5


class LockedError(DzbuildError):
    """Another dzbuild process is building the same output; seen by whoever started the second one."""

    exit_code = 6


class BuildError(DzbuildError):
    """The build could not finish (disk full, permissions); earlier versions are left intact."""

    exit_code = 7

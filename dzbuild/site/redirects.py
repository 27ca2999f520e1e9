"""``_redirects``: a stable ``latest`` alias per image, for people who link to an image from elsewhere.

``/IMAGE/latest/*`` answers 302 with ``/IMAGE/{format}/v{n}/*`` (the format the viewer pages open,
Deep Zoom by default), so ``.../IMAGE/latest/dzi.xml`` always opens the newest version, and its
tiles (which viewers request next to the descriptor they were given) follow the same redirect.
302, not 301: the target moves with every new version. The alias lives outside the format folders,
so the immutable caching of ``_headers`` never applies to the redirect. Where the host cannot apply
one such line per image (Cloudflare Pages beyond 100, GitHub Pages at all), a Deep Zoom image's alias
is a descriptor file instead (``latest.py`` says how).
The base URI of a IIIF image service (``/IMAGE/iiif/v{n}``) answers 303 with its ``info.json``, as
the Image API asks: one line per version, without a splat (hosts allow many more of those).
Merged like ``_headers``: only the lines between dzbuild's markers are replaced.
"""

from __future__ import annotations

import warnings

from . import latest
from .headers import merge_block, rule_path, split_owned
from .paths import read_control_file

MAX_LINE = 1000  # Cloudflare Pages: characters a redirect line
MAX_DYNAMIC = latest.MAX_DYNAMIC  # Cloudflare Pages: redirects with a splat or placeholder
MAX_STATIC = 2000  # Cloudflare Pages: plain redirects
SERVICE_DESCRIPTOR = "info.json"  # IIIF: an image service's base URI redirects (303) to this document


class RedirectsWarning(UserWarning):
    """A ``_redirects`` line had to be left out, or exceeds a host's limit."""


def latest_line(base: str, image) -> str:
    return latest.redirect_line(base, image)


def aliases_as_files(existing: str, images, host: str) -> bool:
    """Whether Deep Zoom images get a ``latest/`` descriptor file instead of a redirect line (see ``latest``)."""
    vacuumed = sum(len(image.formats) * (image.versions - len(image.available)) for image in images)
    return latest.as_files(host, images, latest.dynamic_lines(split_owned(existing)), vacuumed)


def latest_files(config, images) -> list[tuple[str, bytes]]:
    """The ``latest/`` descriptor files of a site's build (none where redirects serve): ``(output path, bytes)``."""
    existing = read_control_file(config.redirects_file) if config.redirects_file is not None else ""
    return latest.descriptor_files(config.base_url, images) if aliases_as_files(existing, images, config.host) else []


def vacuumed_lines(base: str, image) -> list[str]:
    """A version removed by ``dzbuild vacuum`` sends its URLs to the latest version (302), so no link breaks."""
    prefix = f"{base}{rule_path(image.rel)}"
    gone = [n for n in range(image.versions) if n not in image.available]
    names = [fmt.name for fmt in image.formats]
    return [f"{prefix}/{name}/v{n}/* {prefix}/{name}/v{image.latest}/:splat 302" for name in names for n in gone]


def service_lines(base: str, image) -> list[str]:
    """``/IMAGE/FORMAT/v{n} /IMAGE/FORMAT/v{n}/info.json 303`` for each version of a IIIF-like format."""
    prefix = f"{base}{rule_path(image.rel)}"
    return [
        f"{prefix}/{fmt.name}/v{n} {prefix}/{fmt.name}/v{n}/{fmt.descriptor} 303"
        for fmt in image.formats if fmt.descriptor == SERVICE_DESCRIPTOR for n in image.available
    ]


def render_redirects(existing: str, base: str, images, host: str) -> str:
    """The new ``_redirects``: the site's own lines kept, one ``latest`` line per image after them."""
    lines = []
    files = aliases_as_files(existing, images, host)
    for image in images:
        if not (files and image.viewer.name == latest.DZI):  # else its alias is a file (``latest_files``)
            line = latest_line(base, image)
            if len(line) > MAX_LINE:
                warnings.warn(
                    f"_redirects: the latest alias of {image.rel!r} is longer than {MAX_LINE} characters; left out",
                    RedirectsWarning,
                )
                continue
            lines.append(line)
        lines += vacuumed_lines(base, image)  # no longer than the alias: within the limit with it
    if host == "cloudflare-pages" and len(lines) > MAX_DYNAMIC:
        warnings.warn(
            f"_redirects: {len(lines)} redirects with a splat (latest aliases of formats other than Deep Zoom,"
            f" removed versions), but Cloudflare Pages applies at most {MAX_DYNAMIC}; the rest will not work there",
            RedirectsWarning,
        )
    services = [line for image in images for line in service_lines(base, image) if len(line) <= MAX_LINE]
    if host == "cloudflare-pages" and len(services) > MAX_STATIC:
        warnings.warn(
            f"_redirects: {len(services)} IIIF service redirects, but Cloudflare Pages applies at most"
            f" {MAX_STATIC} plain redirects; the rest will not work there",
            RedirectsWarning,
        )
    return merge_block(existing, services + lines)  # plain lines first, as Cloudflare Pages prefers

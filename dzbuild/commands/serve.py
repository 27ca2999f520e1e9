"""``dzbuild serve [SITE]``: build the site, serve its output on 127.0.0.1, rebuild and reload on changes."""

from __future__ import annotations

import signal

from ..errors import ConfigError
from ..site.preview import Preview


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="preview a site: build, serve on 127.0.0.1, rebuild and reload pages on every change"
    )
    parser.add_argument("site", nargs="?", default=".", help="the site folder, with dzbuild.toml (default: .)")
    parser.add_argument("--port", "-p", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free)")
    parser.add_argument(
        "--jobs", "-j", type=int, help="worker processes, kept warm between rebuilds (default: every core)"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    preview = Preview(args.site, port=args.port, jobs=args.jobs)
    signal.signal(signal.SIGTERM, lambda *_: preview.stop())  # a service manager's stop: end as Ctrl-C does
    try:
        preview.run()
    except KeyboardInterrupt:  # the usual way to stop a preview: not an error
        preview.close()
    return 0

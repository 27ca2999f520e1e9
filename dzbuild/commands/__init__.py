"""One module per ``dzbuild`` subcommand; each has ``add_parser(subparsers)`` and ``run(args) -> int``.

``COMMANDS`` is the order they appear in ``dzbuild --help``. A run builds the parser of its own
command only, so it imports that command's modules and no other's.
"""

COMMANDS = ("build", "serve", "pyramid", "collection", "ingest", "check", "vacuum", "plugins", "init")

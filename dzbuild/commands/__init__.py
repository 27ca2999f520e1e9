"""One module per ``dzbuild`` subcommand; each has ``add_parser(subparsers)`` and ``run(args) -> int``.

``COMMANDS`` is the order they appear in ``dzbuild --help``. Command modules import only
``argparse``-level things at the top, so building the parser stays cheap.
"""

COMMANDS = ("build", "serve", "pyramid", "collection", "ingest", "check", "vacuum", "plugins", "init")

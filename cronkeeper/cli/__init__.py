"""The ``cronkeeper`` command line: ``main(argv)`` runs one command in-process."""

from cronkeeper.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

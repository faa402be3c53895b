"""The ``textedit`` command line: ``textedit <command> [options]``.

Each command lives in its own module ``textedit.cli.<command>`` with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int`` does the work.
Modules import heavy libraries (torch) inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from textedit._version import __version__
from textedit.errors import InputError, TextEditError

__all__ = ["main", "build_parser"]

#: command modules, in the order ``--help`` lists them
COMMANDS = ("components", "data", "train", "eval", "train_damsm", "edit", "generate", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textedit",
        description="Text-guided image manipulation: edit images with descriptions, train and "
        "evaluate models, and inspect the installed components.",
    )
    parser.add_argument("--version", action="version", version=f"textedit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"textedit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"textedit.cli.{name}":
                continue  # command not part of this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except InputError as exc:  # the user's input: exit 2, like a usage error
        print(f"textedit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except TextEditError as exc:
        print(f"textedit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a read-only folder, a file that went away
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"textedit {args.command}: error: cannot read or write{where}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"textedit {args.command}: interrupted", file=sys.stderr)
        return 130

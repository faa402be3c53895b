"""The ``textedit`` command line: ``textedit <command> [options]``.

Each command lives in its own module ``textedit.cli.<command>`` with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int`` does the work.
Modules import heavy libraries (torch) inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
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


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """textedit's own warnings as one ``warning:`` line (they say what to do; the source
    line that Python shows would only be noise on a command line), others as Python does."""
    if f"{os.sep}textedit{os.sep}" in str(filename):
        return f"warning: {message}\n"
    return _python_format_warning(message, category, filename, lineno, line)


_python_format_warning = warnings.formatwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    previous, warnings.formatwarning = warnings.formatwarning, _format_warning
    try:
        return _run(argv)
    finally:
        warnings.formatwarning = previous


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE overrides may stand anywhere on the line, between flags too
    # (argparse gives a positional list only its first uninterrupted run)
    stray = [a for a in extra if "=" in a and not a.startswith("-")]
    if stray and isinstance(getattr(args, "overrides", None), list):
        args.overrides += stray
        extra = [a for a in extra if a not in stray]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
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

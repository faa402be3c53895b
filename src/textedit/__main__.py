"""``python -m textedit`` runs the command line."""

import sys

from textedit.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m autograd``: the ``chainrule`` command (see ``autograd/cli.py``)."""

import sys

from autograd.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""MkDocs hook (``hooks:`` in mkdocs.yml): lets the pages' build-time code import ``chainrule_docs``.

markdown-exec runs the ``exec="1"`` blocks inside the MkDocs process; this puts
``docs/gen`` on ``sys.path`` before any page is rendered. (MkDocs restores ``sys.path``
after importing a hook, so it is done in ``on_config``, not at import.)
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)


def on_config(config):
    if _HERE not in sys.path:
        sys.path.insert(0, _HERE)
    return config

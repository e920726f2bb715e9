"""The `post-render` step of `_quarto.yml`: finish the rendered site (see pipeline/render/post_render.py).

Quarto runs a `.py` script with the interpreter `QUARTO_PYTHON` names, not the `python` on
PATH, so `QUARTO_PYTHON=.venv/bin/python quarto render` (and `quarto preview`) finish the
site with the project's packages. The built-in renderer runs this same file with its own
interpreter. Run from anywhere: the project root is put on `sys.path` here, since neither
Quarto nor a bare `python scripts/post_render.py` sets PYTHONPATH.
"""

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from pipeline.__main__ import main  # noqa: E402  (needs the path set above)

if __name__ == "__main__":
    sys.exit(main(["post-render", *sys.argv[1:]]))

"""Run inside a page's kernel after every cell: what did the cell read, did it change state?

`pipeline.render.freeze` interleaves a call to `probe(globals())` after each cell and reads
its one line of stdout. The first call (before any cell) only takes the baseline.
"""

from __future__ import annotations

import json
import types

from pipeline.render.freeze import PROBE_MARK

# Values a cell binds that carry no data of the edition: what an import or a `def` binds.
CODE_TYPES = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)

IGNORED = {"In", "Out", "get_ipython", "exit", "quit", "open"}
_last: dict[str, int] | None = None


def probe(namespace: dict) -> None:
    """Print whether the global names changed since the last probe (and whether to data or
    only to modules, classes and functions), and the reads noted."""
    global _last
    from pipeline.briefing.sections import take_reads

    names = {k: id(v) for k, v in namespace.items() if not k.startswith("_") and k not in IGNORED}
    changed = [k for k, v in names.items() if _last is None or _last.get(k) != v]
    pure = _last is not None and names == _last
    binds_data = not all(isinstance(namespace[k], CODE_TYPES) for k in changed)
    _last = names
    report = {"pure": pure, "binds_data": binds_data, "reads": sorted(take_reads())}
    print(PROBE_MARK + json.dumps(report))

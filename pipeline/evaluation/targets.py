"""What the engine should reach (TARGETS, issue 12) and what CI holds it to today (FLOORS).

A rate's bound is a fraction; a count's bound is a number of rows. `make eval` prints each
figure next to its target. FLOORS are ratchets: the levels measured on the dev corpus when
the scorer was written, rounded down a little, so CI fails when the engine gets worse. Raise
a floor whenever a change lifts the figure; never lower one to make a change pass. The floors
climb towards the targets.
"""

from __future__ import annotations

# metric -> (">=" or "<=", bound)
TARGETS: dict[str, tuple[str, float]] = {
    "articles dropped silently": ("<=", 0),
    "date right": (">=", 0.95),
    "dates wrong by > 30 days": ("<=", 0),
    "publisher right": (">=", 0.90),
    "title right": (">=", 0.95),
    "claim recall": (">=", 0.90),
    "instrument right": (">=", 0.95),
    "claim date right": (">=", 0.90),
    "kind right": (">=", 0.90),
    "verdict right": (">=", 0.90),
    "false contradicted": ("<=", 0),
    "amounts read as prices": ("<=", 0),
}

# (language or "overall", metric) -> (">=" or "<=", bound), measured on ../shared/corpus/dev.
FLOORS: dict[tuple[str, str], tuple[str, float]] = {}


def meets(op: str, bound: float, value: float | None) -> bool | None:
    """Whether `value` is on the right side of `bound` (None when there is no value)."""
    if value is None:
        return None
    return value >= bound if op == ">=" else value <= bound

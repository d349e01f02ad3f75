"""Field-work targets: how many completed interviews each neighbourhood and each volunteer should reach.

Coordinators edit them in the app (Field monitoring page); they are stored in the store's database (Store.targets)
so that every coordinator and every replica sees the same numbers. They are plans, not data: nothing in analysis
reads them. This module checks an edited table before it replaces the stored one.
"""

import pandas as pd

from collect.store import Store

KINDS = ("neighbourhood", "volunteer")
DEFAULT_PER_NEIGHBOURHOOD = 100  # 20 areas × 100 ≈ the 2,000 interviews of a round; ≥ min_n for sex breakdowns


class TargetError(ValueError):
    """An edited target table that cannot be saved; the message names the row."""


class Targets:
    def __init__(self, store: Store):
        self.store = store

    def get(self, kind: str, keys: list[str], default: int | None = None) -> pd.DataFrame:
        """One row per key (columns `kind` name and `target`); keys without a stored target get `default`."""
        stored = self.store.targets(kind)
        keys = list(dict.fromkeys([*keys, *stored]))
        values = [stored.get(k, default) for k in keys]
        return pd.DataFrame({kind: keys, "target": pd.array(values, dtype="Int64")})

    def save(self, kind: str, table: pd.DataFrame) -> None:
        """Replace the targets of one kind with the edited table (empty target = no target)."""
        if kind not in KINDS:
            raise TargetError(f"unknown target kind {kind!r}")
        rows = []
        for position, (key, target) in enumerate(zip(table[kind], table["target"]), start=1):
            if pd.isna(target):
                continue
            if pd.isna(key) or not str(key).strip():
                raise TargetError(f"row {position}: the {kind} is empty")
            if float(target) < 0 or float(target) != int(target):
                raise TargetError(f"row {position} ({key}): the target must be a whole number ≥ 0, got {target}")
            rows.append((str(key).strip(), int(target)))
        keys = [key for key, _ in rows]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise TargetError(f"{kind} listed more than once: {', '.join(repeated)}")
        self.store.replace_targets(kind, dict(rows))

import pandas as pd
import pytest

from collect.database import make_engine
from collect.store import Store
from dashboard.targets import TargetError, Targets


@pytest.fixture
def targets(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path / 't.db'}"))
    yield Targets(store)
    store.close()


def test_defaults_then_saved_values_and_extra_keys(targets):
    table = targets.get("neighbourhood", ["a", "b"], default=100)
    assert table.to_dict("list") == {"neighbourhood": ["a", "b"], "target": [100, 100]}
    targets.save("neighbourhood", pd.DataFrame({"neighbourhood": ["a", "c"], "target": [50, 7]}))
    table = targets.get("neighbourhood", ["a", "b"], default=100)
    assert table.to_dict("list") == {"neighbourhood": ["a", "b", "c"], "target": [50, 100, 7]}
    assert targets.get("volunteer", ["x"]).to_dict("list") == {"volunteer": ["x"], "target": [None]}


def test_empty_target_means_none_and_bad_rows_are_named(targets):
    targets.save("volunteer", pd.DataFrame({"volunteer": ["x", "y"], "target": [pd.NA, 3]}))
    assert targets.get("volunteer", []).to_dict("list") == {"volunteer": ["y"], "target": [3]}
    with pytest.raises(TargetError, match=r"row 2 \(y\): the target must be a whole number ≥ 0, got -1"):
        targets.save("volunteer", pd.DataFrame({"volunteer": ["x", "y"], "target": [1, -1]}))
    with pytest.raises(TargetError, match="listed more than once: x"):
        targets.save("volunteer", pd.DataFrame({"volunteer": ["x", "x"], "target": [1, 2]}))
    assert targets.get("volunteer", []).to_dict("list") == {"volunteer": ["y"], "target": [3]}  # nothing partial

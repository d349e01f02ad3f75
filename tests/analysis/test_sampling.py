"""The sample planner against hand computation: sizes, certainty blocks, PPS probabilities, within-block
selection, reproducibility, too-small frames, assignments; the shipped synthetic frame and blocks.csv."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import sampling
from analysis.sampling import (
    SampleSpec,
    SamplingError,
    dwelling_numbers,
    plan_sample,
    pps_systematic,
    read_frame,
)
from sdg16 import sample_commands

DATA = Path(__file__).resolve().parents[2] / "data"


def small_frame(seed: int = 3) -> pd.DataFrame:
    """Two areas of 30 and 12 blocks with uneven sizes, one huge block in area `a` (a certainty block)."""
    rng = np.random.default_rng(seed)
    sizes = list(rng.integers(10, 60, 30)) + list(rng.integers(10, 60, 12))
    sizes[4] = 900
    return pd.DataFrame(
        {
            "block": [f"B{i:03d}" for i in range(42)],
            "neighbourhood": ["a"] * 30 + ["b"] * 12,
            "dwellings": sizes,
            "district": "d",
        }
    )


def test_sizes_follow_the_margin_of_error_formula():
    spec = SampleSpec(moe=0.05, p=0.5, deff=1.5, response_rate=0.7, per_block=8)
    # 1.959964² × 0.25 × 1.5 / 0.05² = 576.2 → 577 completed; ⌈8 / 0.7⌉ = 12 dwellings per block
    assert spec.interviews == 577
    assert spec.take == 12
    assert SampleSpec(moe=0.10, p=0.3, deff=2.0).interviews == 162  # 3.8415 × 0.21 × 2 / 0.01 = 161.3


def test_pps_probabilities_by_hand_with_a_certainty_block():
    # total 200, n = 2: 2 × 100 / 200 = 1 → the 100-dwelling block is certain; the other draw: I = 100/1
    selected, prob, certain, _, interval = pps_systematic(np.array([10, 20, 30, 40, 100]), 2, start=35.0)
    np.testing.assert_allclose(prob, [0.1, 0.2, 0.3, 0.4, 1.0])
    assert interval == 100 and certain.tolist() == [False] * 4 + [True]
    assert selected.tolist() == [2, 4]  # 35 falls in (30, 60], the third block's range


def test_certainty_is_repeated_until_no_block_reaches_one():
    # n = 3 of 190: 3×100/190 ≥ 1 → certain; then 2×50/90 ≥ 1 → certain; then 1 of four blocks of 10: π = 0.25
    selected, prob, _, _, interval = pps_systematic(np.array([100, 50, 10, 10, 10, 10]), 3, start=25.0)
    np.testing.assert_allclose(prob, [1, 1, 0.25, 0.25, 0.25, 0.25])
    assert interval == 40 and selected.tolist() == [0, 1, 4]  # 25 in (20, 30]: the fifth block


def test_systematic_pps_selects_each_block_at_its_probability():
    sizes = np.array([5, 17, 40, 8, 23, 60, 11, 36])
    rng = np.random.default_rng(11)
    counts = np.zeros(len(sizes))
    draws = 4000
    for _ in range(draws):
        selected, prob, *_ = pps_systematic(sizes, 3, rng=rng)
        assert len(selected) == 3
        counts[selected] += 1
    np.testing.assert_allclose(prob.sum(), 3)
    np.testing.assert_allclose(counts / draws, prob, atol=4 * np.sqrt(0.25 / draws))


def test_within_block_numbers_by_hand_and_their_probability():
    assert dwelling_numbers(10, 4, 1.5) == [2, 4, 7, 9]  # interval 2.5: ⌈1.5⌉, ⌈4⌉, ⌈6.5⌉, ⌈9⌉
    assert dwelling_numbers(5, 5, 0.4) == [1, 2, 3, 4, 5]
    starts = np.arange(1, 251) / 100  # every start of (0, 2.5] on the plan's 0.01 grid
    hits = np.zeros(11)
    for s in starts:
        numbers = dwelling_numbers(10, 4, s)
        assert len(set(numbers)) == 4
        hits[numbers] += 1
    np.testing.assert_allclose(hits[1:] / len(starts), 0.4)  # take / dwellings


def test_plan_is_reproducible_and_records_the_probabilities():
    frame = read_frame(small_frame())
    spec = SampleSpec(moe=0.2, per_block=4, response_rate=0.8, seed=5)
    first, second = plan_sample(frame, spec), plan_sample(frame, spec)
    pd.testing.assert_frame_equal(first.blocks, second.blocks)
    assert list(first.blocks.columns) == list(sampling.BLOCK_COLUMNS)
    n = spec.interviews  # 1.96² × .25 × 1.5 / .04 = 36.01 → 37 → 10 blocks of 4
    assert first.areas.set_index("neighbourhood")["blocks"].tolist() == [10, 10]
    a = first.blocks[first.blocks["neighbourhood"] == "a"]
    assert "B004" in set(a.loc[a["certainty"] == "yes", "name"]) and n == 37
    # π of the non-certainty blocks of a: 9 × M_i / (M_a − 900)
    rest = frame[(frame["neighbourhood"] == "a") & (frame["block"] != "B004")].set_index("block")["dwellings"]
    drawn = a[a["certainty"] == "no"].set_index("name")
    np.testing.assert_allclose(drawn["prob_block"], 9 * rest[drawn.index] / rest.sum(), rtol=1e-9)
    assert (first.blocks["take"] == 5).all()  # ⌈4 / 0.8⌉
    assert (
        plan_sample(frame, SampleSpec(moe=0.2, per_block=4, seed=6)).blocks["name"].tolist()
        != first.blocks["name"].tolist()
    )
    assert plan_sample(frame, SampleSpec(moe=0.2, per_block=4)).spec.seed is not None  # drawn, then recorded


def test_too_small_frames_are_named():
    frame = read_frame(small_frame())
    with pytest.raises(SamplingError, match=r"b: el marco tiene 12 bloques y se necesitan 73") as error:
        plan_sample(frame, SampleSpec(moe=0.05, per_block=8, seed=1))
    assert "a: el marco tiene 30 bloques" in str(error.value)
    with pytest.raises(SamplingError, match="sizes file names areas"):
        plan_sample(frame, SampleSpec(seed=1), sizes={"zz": 10})
    sized = plan_sample(frame, SampleSpec(seed=1, per_block=8), sizes={"a": 40, "b": 0})
    assert sized.areas["neighbourhood"].tolist() == ["a"] and len(sized.blocks) == 5


def test_bad_frames_are_refused_with_every_problem():
    frame = small_frame().assign(dwellings=lambda f: f["dwellings"].astype(object))
    frame.loc[3, "dwellings"] = "many"
    frame.loc[5, "block"] = "B000"
    with pytest.raises(SamplingError) as error:
        read_frame(frame, pd.DataFrame({"name": ["a"], "district": ["d"]}))
    message = str(error.value)
    assert "B003 = 'many'" in message and "B000" in message and "unknown neighbourhoods" in message and ": b" in message
    with pytest.raises(SamplingError, match="lacks column"):
        read_frame(small_frame().drop(columns="dwellings"))


def test_volunteers_walk_consecutive_blocks_and_get_targets():
    frame = read_frame(small_frame())
    volunteers = pd.DataFrame({"volunteer": ["Ana", "Beto", "Carla"], "neighbourhood": ["a", "a", ""]})
    plan = plan_sample(frame, SampleSpec(moe=0.2, per_block=4, seed=5), volunteers=volunteers)
    a = plan.blocks[plan.blocks["neighbourhood"] == "a"]["volunteer"].tolist()
    assert a == ["Ana"] * 5 + ["Beto"] * 5
    assert set(plan.blocks.loc[plan.blocks["neighbourhood"] == "b", "volunteer"]) == {"Carla"}
    targets = plan.targets.set_index(["kind", "key"])["target"]
    assert targets[("neighbourhood", "a")] == 40 and targets[("volunteer", "Ana")] == 20
    assert len(plan.assignments) == plan.blocks["take"].sum()
    files = sampling.plan_files(plan)
    assert {"blocks.csv", "assignments.csv", "targets.csv", "areas.csv", "plan.json", "lists/Ana.html"} <= set(files)
    assert "Manzanas asignadas / Assigned blocks: Ana" in files["lists/Ana.html"].decode()


def test_cli_writes_the_plan(tmp_path):
    frame = tmp_path / "frame.csv"
    small_frame().to_csv(frame, index=False)
    neighbourhoods = tmp_path / "n.csv"
    pd.DataFrame({"name": ["a", "b"], "district": ["d", "d"]}).to_csv(neighbourhoods, index=False)
    result = CliRunner().invoke(
        sample_commands.app,
        [
            "plan",
            "--frame",
            str(frame),
            "--out",
            str(tmp_path / "out"),
            "--moe",
            "0.2",
            "--per-block",
            "4",
            "--seed",
            "5",
            "--neighbourhoods",
            str(neighbourhoods),
        ],
    )
    assert result.exit_code == 0, result.output
    blocks = pd.read_csv(tmp_path / "out" / "blocks.csv")
    assert len(blocks) == 20 and (blocks["prob_block"] > 0).all() and (blocks["prob_block"] <= 1).all()
    failed = CliRunner().invoke(
        sample_commands.app,
        ["plan", "--frame", str(frame), "--out", str(tmp_path / "o2"), "--neighbourhoods", str(neighbourhoods)],
    )
    assert failed.exit_code == 1 and "se necesitan" in failed.output


def test_shipped_frame_and_blocks_are_the_documented_command(tmp_path):
    written = sample_commands.write_synthetic(tmp_path / "frame.csv", tmp_path / "blocks.csv")
    assert written[0].read_bytes() == (DATA / "frame_trujillo_synthetic.csv").read_bytes()
    assert written[1].read_bytes() == (DATA / "blocks.csv").read_bytes()
    blocks = pd.read_csv(DATA / "blocks.csv")
    places = pd.read_csv(DATA / "neighbourhoods.csv")
    assert set(blocks["neighbourhood"]) == set(places["name"])
    assert blocks["name"].is_unique and blocks["prob_block"].between(0, 1, inclusive="right").all()

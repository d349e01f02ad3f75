"""Write the probability-sample golden input (fixed seeds): nonresponse_input.csv (every visit of a simulated
round: interviews and visit records without one) the frame (nonresponse_frame.csv, for the fpc) and
the population margins nonresponse_margins_{sex,age}.csv.
Then `Rscript tests/golden/nonresponse.R` writes R survey's weights and estimates. Run from the repository root."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent / "analysis")]

from field_round import field_round, frame, margins, population

from analysis.sampling import SampleSpec, plan_sample, read_frame


def main() -> None:
    blocks = frame()
    dwellings, people = population(blocks)
    plan = plan_sample(
        read_frame(blocks), SampleSpec(per_block=6, response_rate=0.6, seed=11), sizes={"a": 60, "b": 60, "c": 60}
    )
    field_round(plan, dwellings, people, seed=12).to_csv(HERE / "nonresponse_input.csv", index=False)
    blocks.to_csv(HERE / "nonresponse_frame.csv", index=False)
    sex, age = margins(people)
    sex.to_csv(HERE / "nonresponse_margins_sex.csv", index=False)
    age.to_csv(HERE / "nonresponse_margins_age.csv", index=False)


if __name__ == "__main__":
    main()

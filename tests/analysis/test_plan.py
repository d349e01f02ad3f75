"""Plan loading and validation: every mistake gives a clear error naming it, before any computation."""

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.domains import evaluate_domain, expression_columns
from analysis.errors import AnalysisError
from analysis.plan import PlanError, load_plan, matches
from analysis.plan_checks import check_against_data, outside_margins
from analysis.recode import derived_choices
from forms.choices import read_form_choices

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PLAN = ROOT / "analysis" / "plans" / "sdg16.toml"
FORM = ROOT / "forms" / "sdg16_perception.xlsx"

MINIMAL = """
[design]
strata = "neighbourhood"
weight = "w"

[[margins]]
file = "m_sex.csv"

[weights]
method = "rake"

[[indicator]]
id = "safe"
variable = "feels_safe_after_dark"
success = ["very_safe", "safe"]
exclude = ["dont_know", "refused"]

[estimation]
ci = "logit"
"""


def write_plan(tmp_path: Path, text: str = MINIMAL, margins: dict[str, str] | None = None) -> Path:
    margins = (
        margins if margins is not None else {"m_sex.csv": "neighbourhood,sex,population\na,female,60\na,male,40\n"}
    )
    for name, content in margins.items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "plan.toml"
    path.write_text(textwrap.dedent(text))
    return path


def data(**extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "neighbourhood": ["a", "a", "a"],
            "sex": ["female", "male", "female"],
            "w": [1.0, 2.0, 1.0],
            "feels_safe_after_dark": ["very_safe", "unsafe", "dont_know"],
        }
    )
    return frame.assign(**extra)


def test_minimal_plan_loads_with_defaults(tmp_path):
    plan = load_plan(write_plan(tmp_path))
    assert plan.design.strata == "neighbourhood" and plan.design.psu is None
    assert plan.estimation.level == 0.95 and plan.estimation.min_n == 30
    assert plan.margins[0].file == (tmp_path / "m_sex.csv").resolve()
    assert plan.margins[0].columns == ["neighbourhood", "sex"]
    assert plan.indicators[0].success == ("very_safe", "safe")


@pytest.mark.parametrize(
    "edit, message",
    [
        (("[weights]", "[weights]\nmethd = 'rake'"), "unknown key 'methd' in [weights]"),
        (("[design]", "[desing]"), "unknown top-level key 'desing'"),
        (("[[margins]]", "[margins]"), "'margins' must be written as [[margins]] tables"),
        (('id = "safe"', 'id = "safe"\nsucces = ["x"]'), "unknown key 'succes' in [[indicator]] #1 (safe)"),
        (('ci = "logit"', 'ci = "wald"'), "ci = 'wald' is not a method"),
        (('ci = "logit"', 'ci = "logit"\nlevel = 95'), "level = 95 must be a number strictly between 0 and 1"),
        (('method = "rake"', 'method = "ipf"'), "method = 'ipf' is not one of"),
        (('weight = "w"', 'weight = "w"\nlonely_psu = "drop"'), "lonely_psu = 'drop'"),
        (('method = "rake"', 'method = "rake"\ntrim = [3.0, 0.3]'), "trim = [3.0, 0.3] must be [low, high]"),
        (('method = "rake"', 'method = "rake"\nmin_cell = 0'), "min_cell = 0 must be a whole number >= 1"),
        (
            ('success = ["very_safe", "safe"]', 'success = "safe"'),
            "success must be a list of choice names or numeric codes",
        ),
        (('ci = "logit"', 'ci = "logit"\nby = "sex"'), "[estimation] by must be a list of column names"),
        (
            ('exclude = ["dont_know", "refused"]', 'exclude = ["safe"]'),
            "value(s) ['safe'] are both success and exclude",
        ),
        (('variable = "feels_safe_after_dark"\n', ""), "needs 'variable' and 'success'"),
        (('id = "safe"', 'id = "safe"\ndomain = "x = 1"'), "domain: cannot parse"),
        (('id = "safe"', 'id = "safe"\ndomain = "__import__(\'os\')"'), "the only function is selected"),
        (('file = "m_sex.csv"', 'file = "nowhere.csv"'), "margin file not found"),
    ],
)
def test_structural_mistakes_are_named(tmp_path, edit, message):
    text = MINIMAL.replace(*edit)
    with pytest.raises(PlanError) as error:
        load_plan(write_plan(tmp_path, text))
    assert message in str(error.value)


def test_every_problem_is_reported_at_once(tmp_path):
    text = MINIMAL.replace('ci = "logit"', 'ci = "wald"').replace("[weights]", "[weights]\nfoo = 1")
    with pytest.raises(PlanError) as error:
        load_plan(write_plan(tmp_path, text))
    assert len(error.value.problems) == 2


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(PlanError, match="not valid TOML"):
        load_plan(write_plan(tmp_path, "[design\n"))
    with pytest.raises(PlanError, match="file not found"):
        load_plan(tmp_path / "absent.toml")


def test_margins_disagreeing_per_neighbourhood_are_refused(tmp_path):
    text = MINIMAL.replace('file = "m_sex.csv"', 'file = "m_sex.csv"\n[[margins]]\nfile = "m_age.csv"')
    margins = {
        "m_sex.csv": "neighbourhood,sex,population\na,female,60\na,male,40\nb,female,10\nb,male,10\n",
        "m_age.csv": "neighbourhood,age_group,population\na,18-24,50\na,25+,45\nb,18-24,10\nb,25+,15\n",
    }
    with pytest.raises(PlanError) as error:
        load_plan(write_plan(tmp_path, text, margins))
    assert "disagree for neighbourhood = 'a': 100 vs 95" in str(error.value)
    assert "disagree for neighbourhood = 'b': 20 vs 25" in str(error.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ("neighbourhood,sex,population\na,female,-3\n", "population must be a non-negative number"),
        ("neighbourhood,sex,population\na,female,many\n", "population must be a non-negative number"),
        ("neighbourhood,sex\na,female\n", "needs the margin column(s) and a 'population' column"),
        ("neighbourhood,sex,population\na,female,3\na,female,4\n", "repeated cell(s)"),
    ],
)
def test_bad_margin_files(tmp_path, content, message):
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_plan(write_plan(tmp_path, margins={"m_sex.csv": content}))


def test_missing_column_in_data_is_named(tmp_path):
    plan = load_plan(write_plan(tmp_path))
    with pytest.raises(PlanError, match="column 'w' used by the plan is not in the data"):
        check_against_data(plan, data().drop(columns="w"))


def test_label_instead_of_choice_name_is_an_error(tmp_path):
    plan = load_plan(write_plan(tmp_path, MINIMAL.replace('"very_safe", "safe"', '"very safe", "safe"')))
    with pytest.raises(
        PlanError, match="'very safe' is not a value of feels_safe_after_dark; did you mean 'very_safe'"
    ):
        check_against_data(plan, data())


def test_unobserved_value_without_choices_is_a_warning(tmp_path):
    plan = load_plan(write_plan(tmp_path))
    warnings = check_against_data(plan, data())
    assert warnings == [
        "indicator safe: success value 'safe' of feels_safe_after_dark does not occur in the data",
        "indicator safe: exclude value 'refused' of feels_safe_after_dark does not occur in the data",
    ]


def test_choice_list_is_the_authority_when_given(tmp_path):
    plan = load_plan(write_plan(tmp_path, MINIMAL.replace('"very_safe", "safe"', '"very_safe", "quite_safe"')))
    choices = pd.DataFrame(
        {"variable": "feels_safe_after_dark", "value": ["very_safe", "safe", "unsafe", "dont_know", "refused"]}
    )
    with pytest.raises(PlanError, match="success value 'quite_safe' is not a choice of feels_safe_after_dark"):
        check_against_data(plan, data(), choices)


def test_data_category_without_margin_is_found_not_refused(tmp_path):
    """Not a plan error: the respondents are set aside by the pipeline (tests/analysis/test_pipeline.py)."""
    plan = load_plan(write_plan(tmp_path))
    frame = data(sex=["female", "male", "other"])
    assert not any("sex" in w for w in check_against_data(plan, frame))
    aside, reasons = outside_margins(plan, frame)
    assert list(aside) == [False, False, True] and reasons == ["sex = 'other' (1), not in m_sex.csv"]


def test_empty_data_is_refused(tmp_path):
    plan = load_plan(write_plan(tmp_path))
    with pytest.raises(PlanError, match="no eligible respondents"):
        check_against_data(plan, data().iloc[:0])


def test_mean_of_must_name_known_share_indicators(tmp_path):
    text = MINIMAL + '\n[[indicator]]\nid = "both"\nmean_of = ["safe", "ghost"]\n'
    with pytest.raises(PlanError, match="mean_of refers to unknown indicator 'ghost'"):
        load_plan(write_plan(tmp_path, text))
    text = (
        MINIMAL
        + '\n[[indicator]]\nid = "both"\nmean_of = ["safe", "safe"]\n'
        + '\n[[indicator]]\nid = "nested"\nmean_of = ["safe", "both"]\n'
    )
    with pytest.raises(PlanError, match="mean_of component 'both' is itself a mean_of"):
        load_plan(write_plan(tmp_path, text))


# ---- domain expressions -------------------------------------------------------------------------------

FRAME = pd.DataFrame(
    {
        "v": ["yes", "no", None, "dont_know"],
        "age": ["20", "35", "50", None],
        "to": ["police serenazgo", "other", None, "cem"],
    }
)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("v == 'yes'", [True, False, False, False]),
        ("v != 'yes'", [False, True, False, True]),  # missing satisfies nothing, as R's subset()
        ("v in ['yes', 'no']", [True, True, False, False]),
        ("v not in ['yes']", [False, True, False, True]),
        ("age >= 35", [False, True, True, False]),
        ("v == 'yes' or age > 40", [True, False, True, False]),
        ("not v == 'yes' and 18 <= age < 40", [False, True, False, False]),
        ("selected(to, 'police')", [True, False, False, False]),
        ("", [True, True, True, True]),
    ],
)
def test_domain_expressions(expression, expected):
    assert evaluate_domain(expression, FRAME).tolist() == expected


@pytest.mark.parametrize(
    "expression, message",
    [
        ("v", "alone is not a condition"),
        ("v.upper() == 'X'", "the only function is selected"),
        ("v == 'yes' if True else 1", "IfExp"),
        ("ghost == 1", "missing column"),
    ],
)
def test_bad_domain_expressions(expression, message):
    with pytest.raises(AnalysisError, match=message):
        evaluate_domain(expression, FRAME)


def test_expression_columns():
    assert expression_columns("a == 'x' and (b in ['1'] or selected(c, 'y'))") == {"a", "b", "c"}


# ---- the shipped default plan ------------------------------------------------------------------------


def test_default_plan_loads_and_matches_the_form():
    plan = load_plan(DEFAULT_PLAN)
    assert plan.form == FORM.resolve()
    choices = pd.concat([read_form_choices(plan.form), derived_choices()])
    known = set(choices["variable"])
    for ind in plan.indicators:
        if ind.variable:
            assert ind.variable in known, ind.id
            allowed = set(choices.loc[choices["variable"] == ind.variable, "value"])
            assert set(ind.success) | set(ind.exclude) <= allowed, ind.id


def test_default_plan_covers_every_series_of_the_reference_table():
    series = {i.series for i in load_plan(DEFAULT_PLAN).indicators}
    expected = {
        "VC_SNS_WALN_DRK",
        "VC_VOV_PHYL",
        "VC_VOV_PSYCHL",
        "VC_VOV_SEXL",
        "VC_VOV_ROBB",
        "VC_PRR_PHYV",
        "VC_PRR_SEXV",
        "VC_PRR_ROBB",
        "IU_COR_BRIB",
        "IU_DMK_INCL",
        "IU_DMK_RESP",
        "IU_DMK_ICRS",
        "VC_VOV_GDSD",
    } | {f"SP_PSR_{k}SATIS_{s}" for k in ("", "O") for s in ("HLTH", "PRM", "SEC", "GOV")}
    assert expected <= series
    ids = {i.id for i in load_plan(DEFAULT_PLAN).indicators}
    assert {"16.3.3", "16.7.2", "local.expects_victim_12m", "local.knows_linea100", "local.knows_cem"} <= ids


def test_read_form_choices_of_the_shipped_form():
    choices = read_form_choices(FORM)
    safe = choices[choices["variable"] == "feels_safe_after_dark"]
    assert safe["value"].tolist()[:2] == ["very_safe", "safe"]
    assert safe["label"].notna().all()
    assert "neighbourhood" not in set(choices["variable"])  # select_one_from_file: no choices sheet rows


def _numeric_plan(tmp_path, success, column):
    text = MINIMAL.replace(
        'variable = "feels_safe_after_dark"\nsuccess = ["very_safe", "safe"]\nexclude = ["dont_know", "refused"]',
        f'variable = "victim"\nsuccess = {success}',
    )
    return load_plan(write_plan(tmp_path, text)), data(victim=column)


@pytest.mark.parametrize("column", [[1, 0, 1], [1.0, 0.0, np.nan], ["1", "0", "1"]], ids=["int", "float", "text"])
def test_numeric_codes_match_in_the_columns_type(tmp_path, column):
    """success = [1] on a 0/1 column works whether the column holds integers, floats or the text the store gives."""
    plan, frame = _numeric_plan(tmp_path, "[1]", column)
    assert check_against_data(plan, frame) == []
    uniques = frame["victim"].unique()
    assert list(matches(uniques, plan.indicators[0].success)) == [str(u) in ("1", "1.0") for u in uniques]


def test_a_value_that_cannot_match_the_column_is_an_error(tmp_path):
    plan, frame = _numeric_plan(tmp_path, '["yes"]', [1, 0, 1])
    with pytest.raises(PlanError, match="'yes' cannot match victim, which holds numbers"):
        check_against_data(plan, frame)
    plan, frame = _numeric_plan(tmp_path, "[1]", ["yes", "no", "yes"])
    with pytest.raises(PlanError, match="value 1 cannot match victim, which holds text such as 'no'"):
        check_against_data(plan, frame)
    with pytest.raises(PlanError, match="numeric codes"):
        _numeric_plan(tmp_path, "[true]", [1, 0, 1])


def test_mean_and_total_statistics_are_checked(tmp_path):
    mean = MINIMAL.replace(
        'success = ["very_safe", "safe"]\nexclude = ["dont_know", "refused"]', 'statistic = "mean"\nexclude = [99]'
    ).replace('"feels_safe_after_dark"', '"age"')
    plan = load_plan(write_plan(tmp_path, mean))
    assert plan.indicators[0].statistic == "mean" and plan.indicators[0].exclude == (99,)
    assert check_against_data(plan, data(age=["30", "99", "41"])) == []
    with pytest.raises(PlanError, match="needs numbers, but age holds 'about forty'"):
        check_against_data(plan, data(age=["30", "about forty", "41"]))
    with pytest.raises(PlanError, match="statistic = 'median' is not one of"):
        load_plan(write_plan(tmp_path, mean.replace('"mean"', '"median"')))
    with pytest.raises(PlanError, match="takes the variable's values; drop 'success'"):
        load_plan(write_plan(tmp_path, mean.replace("exclude = [99]", "success = [1]")))


def test_design_and_reliability_keys(tmp_path):
    text = MINIMAL.replace(
        'weight = "w"', 'weight = "w"\nfpc = "N"\nlonely_psu = "average"\nadjust_domain_lonely = true'
    )
    text = text.replace('ci = "logit"', 'ci = "logit"\nmax_cv = 0.2\nmin_effective_n = 50\nmax_ci_width = 0.25')
    plan = load_plan(write_plan(tmp_path, text))
    assert plan.design.fpc == "N" and plan.design.lonely_psu == "average" and plan.design.adjust_domain_lonely
    assert (plan.estimation.max_cv, plan.estimation.min_effective_n, plan.estimation.max_ci_width) == (0.2, 50, 0.25)
    assert "N" in plan.required_columns()
    with pytest.raises(PlanError, match="max_cv = -1 must be a number >= 0"):
        load_plan(write_plan(tmp_path, text.replace("max_cv = 0.2", "max_cv = -1")))
    with pytest.raises(PlanError, match="mean_over = 'median' must be one of all, any, shares"):
        load_plan(
            write_plan(
                tmp_path,
                MINIMAL + '\n[[indicator]]\nid = "c"\nmean_of = ["safe", "safe2"]\n'
                'mean_over = "median"\n[[indicator]]\nid = "safe2"\nvariable = "x"\nsuccess = ["y"]\n',
            )
        )


@pytest.mark.parametrize("name", ["grupo-edad", "grupo/edad", "grupo.edad", "grupo edad"])
def test_column_names_that_are_not_python_names(name):
    """Kobo and Central exports name columns with / and -: backticks quote them in domains; a breakdown of such
    a column works in the engine."""
    frame = pd.DataFrame({name: ["18-29", "30+", None], "y": [1.0, 0.0, 1.0]})
    assert expression_columns(f"`{name}` == '18-29' and y == 1") == {name, "y"}
    assert list(evaluate_domain(f"`{name}` in ['18-29']", frame)) == [True, False, False]
    assert list(evaluate_domain(f"not `{name}` == '30+'", frame)) == [True, False, True]
    from analysis.design import make_design
    from analysis.estimate import proportions

    table = proportions(make_design(frame), "y", by=[name])
    assert list(table["group"]) == ["all", "18-29", "30+"]


def test_unquoted_name_with_a_dash_gets_a_hint():
    with pytest.raises(AnalysisError, match="backticks"):
        expression_columns("grupo-edad == 'x'")

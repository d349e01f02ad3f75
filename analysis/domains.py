"""Domain expressions: the small language a plan's `domain = "..."` is written in, parsed with `ast` (never `eval`).

Why a module of its own: a domain is the sub-population a share is estimated on (victims of a crime, users of a
service), and a wrong one gives a silently wrong base; the language is kept small enough to check before any
weighting starts. It has column names, string or number constants, comparisons (`==`, `!=`, `<`, `<=`, `>`,
`>=`, `in`, `not in`), `and`, `or`, `not`, and ODK's `selected(column, 'choice')` for select_multiple answers.
A column whose name is not a Python name (Kobo's `group/question`, Central's `group-question`, `a.b`) is written
in backticks: `` `grupo/edad` == '18-29' ``.
A missing value satisfies no comparison (as R's `subset()` drops NA), so `x != 'yes'` is false where x was not
asked. `by_unique` and `selected_any` are the select_multiple helpers the language and recode share.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

_QUOTED = re.compile(r"`([^`]+)`")  # a column name with characters Python names cannot hold, e.g. `grupo-edad`
_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _parse(expression: str) -> ast.expr:
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        quoted[f"__column_{len(quoted)}__"] = match.group(1)
        return f"__column_{len(quoted) - 1}__"

    try:
        tree = ast.parse(_QUOTED.sub(placeholder, expression.strip()), mode="eval")
    except SyntaxError as exc:
        raise AnalysisError(f"cannot parse '{expression}': {exc.msg}{_hint(expression)}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in quoted:
            node.id = quoted[node.id]
    for node in ast.walk(tree):
        allowed = (
            ast.Expression,
            ast.BoolOp,
            ast.And,
            ast.Or,
            ast.UnaryOp,
            ast.Not,
            ast.Compare,
            ast.Name,
            ast.Load,
            ast.Constant,
            ast.List,
            ast.Tuple,
            ast.In,
            ast.NotIn,
            ast.Call,
            *_COMPARE,
        )
        if not isinstance(node, allowed):
            raise AnalysisError(
                f"'{expression}' uses {type(node).__name__}, which domain expressions do not allow "
                f"(only columns, constants, comparisons, in, and, or, not, selected()){_hint(expression)}"
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name)
            and node.func.id == "selected"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Name)
            and isinstance(node.args[1], ast.Constant)
            and not node.keywords
        ):
            raise AnalysisError(f"'{expression}': the only function is selected(column, 'choice')")
    return tree.body


def _hint(expression: str) -> str:
    unquoted = _QUOTED.sub("", expression)
    return (
        "; write column names with - / . or spaces in backticks, e.g. `grupo-edad` == '18-29'"
        if any(c in unquoted for c in "-/.")
        else ""
    )


def expression_columns(expression: str) -> set[str]:
    """The column names an expression refers to (so they can be checked before evaluating)."""
    body = _parse(expression)
    return {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id != "selected"}


def evaluate_domain(expression: str, data: pd.DataFrame) -> pd.Series:
    """A boolean Series: which rows satisfy the expression (missing values satisfy nothing)."""
    if not expression.strip():
        return pd.Series(True, index=data.index)
    body = _parse(expression)
    missing = sorted(expression_columns(expression) - set(data.columns))
    if missing:
        raise AnalysisError(f"domain '{expression}' refers to missing column(s) {', '.join(missing)}")
    return _eval(body, data).fillna(False).astype(bool)


def _eval(node: ast.expr, data: pd.DataFrame) -> pd.Series:
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, data) for v in node.values]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if isinstance(node.op, ast.And) else (out | part)
        return out
    if isinstance(node, ast.UnaryOp):
        return ~_eval(node.operand, data)
    if isinstance(node, ast.Call):
        return selected_any(data[node.args[0].id], (str(node.args[1].value),)).fillna(False).astype(bool)
    if isinstance(node, ast.Compare):
        out = pd.Series(True, index=data.index)
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            out &= _compare(left, op, right, data)
            left = right
        return out
    if isinstance(node, ast.Name):
        raise AnalysisError(f"column '{node.id}' alone is not a condition: compare it, e.g. {node.id} == 'yes'")
    raise AnalysisError(f"a constant alone is not a condition: {ast.unparse(node)}")


def _operand(node: ast.expr, data: pd.DataFrame, numeric: bool):
    if isinstance(node, ast.Name):
        column = data[node.id]
        if numeric:
            return pd.to_numeric(column, errors="coerce")
        # string columns compare as they are (an object copy of 1M strings costs more than the comparison)
        return column if isinstance(column.dtype, pd.StringDtype) else column.astype(object)
    if isinstance(node, ast.Constant):
        return node.value
    raise AnalysisError(f"cannot compare {ast.unparse(node)}")


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr, data: pd.DataFrame) -> pd.Series:
    if isinstance(op, (ast.In, ast.NotIn)):
        if not (isinstance(left, ast.Name) and isinstance(right, (ast.List, ast.Tuple))):
            raise AnalysisError("'in' needs a column on the left and a list of constants on the right")
        values = [str(e.value) for e in right.elts if isinstance(e, ast.Constant)]
        column = data[left.id]
        hit = (column if isinstance(column.dtype, pd.StringDtype) else column.astype(object)).isin(values)
        result = hit if isinstance(op, ast.In) else ~hit
        return result.where(column.notna(), False).astype(bool)
    constants = [n.value for n in (left, right) if isinstance(n, ast.Constant)]
    numeric = any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in constants)
    a, b = _operand(left, data, numeric), _operand(right, data, numeric)
    result = _COMPARE[type(op)](a, b)
    if not isinstance(result, pd.Series):
        raise AnalysisError("a comparison needs at least one column")
    valid = pd.Series(True, index=data.index)
    for side in (a, b):
        if isinstance(side, pd.Series):
            valid &= side.notna()
    return result.fillna(False).astype(bool) & valid


def by_unique(column: pd.Series, function) -> pd.Series:
    """`function` applied to each distinct non-missing value, mapped back (NaN stays NaN).

    Answers repeat a few distinct strings over thousands of rows: working on the distinct values is what keeps
    select_multiple parsing fast at 1M rows (string splitting row by row took seconds).
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    results = np.array([function(str(u)) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(results[codes], index=column.index)


def selected_any(multiple: pd.Series, choices: tuple[str, ...]) -> pd.Series:
    """Whether a select_multiple answer (space-separated choice names) contains any of `choices`; NaN if unanswered."""
    wanted = set(choices)
    return by_unique(multiple, lambda answer: bool(wanted & set(answer.split())))

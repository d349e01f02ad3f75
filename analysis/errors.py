"""Errors raised by the analysis engine.

Every problem with the input (a missing column, a bad weight, a margin that cannot be matched) is raised as an
`AnalysisError` whose message names the column, the margin or the cell at fault, so that a researcher can fix the
data instead of reading a traceback. They subclass `ValueError` because they are all about bad values.
"""


class AnalysisError(ValueError):
    """Base class: the input cannot be analysed as asked; the message says what is wrong and where."""


class DesignError(AnalysisError):
    """The sampling design cannot be built (missing column, bad weight, stratum with one PSU under 'fail')."""


class MarginError(AnalysisError):
    """Population margins cannot be matched (totals disagree, a cell empty in the sample or absent from the margin)."""


class ConvergenceError(AnalysisError):
    """Raking or trimming did not reach the requested precision within the allowed iterations."""

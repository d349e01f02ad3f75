"""What each quality flag of analysis.quality means, in the reader's language, and why a submission got it.

analysis.quality computes the flags and keeps the figures behind them (duration, distance to the neighbourhood's
centre, straightlined batteries); this module only puts them into words for the review queue and the quality tab.
"""

from __future__ import annotations

import pandas as pd

from analysis import quality
from dashboard.i18n import N_, _

LABELS = {
    "duplicate_id": N_("duplicate instance ID"),
    "duplicate_respondent": N_("same respondent twice"),
    "duplicate_gps": N_("same GPS point"),
    "speeder": N_("too fast"),
    "duration_outlier": N_("unusual length"),
    "outdated_version": N_("old form version"),
    "gps_missing": N_("no GPS point"),
    "gps_outside": N_("GPS far from the neighbourhood"),
    "straightlining": N_("same answer throughout"),
    "odd_hour": N_("odd hour"),
}
WHY = {
    "duplicate_id": N_("Another submission has the same instance ID."),
    "duplicate_respondent": N_(
        "Another interview has the same block, sex, age, education, household size and years "
        "in the neighbourhood: the same person interviewed twice?"
    ),
    "duplicate_gps": N_("Another interview was recorded at the same GPS point (within about 11 m)."),
    "speeder": N_("A completed interview that took {minutes:.1f} min (under {limit:.0f} min)."),
    "duration_outlier": N_("The interview took {minutes:.0f} min, far from the team's usual length."),
    "outdated_version": N_("Sent with form version {version}, not the current one."),
    "gps_missing": N_("A completed interview without a GPS point."),
    "gps_outside": N_("The GPS point is {km:.1f} km from the centre of the neighbourhood named (over {limit:.0f} km)."),
    "straightlining": N_("The same answer to all five questions in {n} of the service batteries."),
    "odd_hour": N_("Started outside working hours (07:00–21:00, Lima time)."),
}
MEANING = {
    "duplicate_id": N_("the instance ID occurs more than once"),
    "duplicate_respondent": N_("the same respondent's details on another interview"),
    "duplicate_gps": N_("the same GPS point as another interview"),
    "speeder": N_("a completed interview under 8 minutes"),
    "duration_outlier": N_("a completed interview far shorter or longer than the team's usual"),
    "outdated_version": N_("sent with an older form version"),
    "gps_missing": N_("a completed interview without GPS"),
    "gps_outside": N_("GPS more than 2 km from the neighbourhood's centre"),
    "straightlining": N_("the same answer to all five questions in two or more service batteries"),
    "odd_hour": N_("started before 07:00 or after 21:00 (Lima time)"),
}
MIN_MINUTES, GPS_RADIUS_KM = 8.0, 2.0  # analysis.quality.check_submissions' defaults, which the dashboard uses


def labels() -> dict[str, str]:
    """Check name → its short label in the current language."""
    return {check: _(label) for check, label in LABELS.items()}


def summary(checks: pd.DataFrame) -> pd.Series:
    """Per submission: the labels of its flags, comma-separated ('' when none)."""
    names = labels()
    text = pd.Series("", index=checks.index, dtype=object)
    for check in quality.CHECKS:
        text = text.where(~checks[check].astype(bool), text + names[check] + ", ")
    return text.str.removesuffix(", ")


def reasons(row: pd.Series) -> list[str]:
    """Why one submission (a row of the checks frame) was flagged, one sentence per flag."""
    values = {
        "minutes": row.get("duration_min"),
        "limit": MIN_MINUTES,
        "version": row.get("form_version"),
        "km": row.get("gps_distance_km"),
        "n": row.get("straightlined_batteries"),
    }
    said = []
    for check in quality.CHECKS:
        if bool(row.get(check)):
            limit = GPS_RADIUS_KM if check == "gps_outside" else MIN_MINUTES
            said.append(_(WHY[check]).format(**{**values, "limit": limit}))
    return said

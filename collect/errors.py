"""Errors of the collection side, each carrying the HTTP status the OpenRosa routes answer with.

The message always names what is wrong, because Collect shows it to the volunteer and the CLI to the
coordinator.
Values a volunteer or an export sent are put in messages through `quoted`, never as they came.
"""

import re

QUOTED_LIMIT = 80
# What Markdown or HTML would act on (links, images, emphasis, tags, code), were a page to render the message.
_ACTIVE = re.compile(r"([\\`*\[\]()<>!|~])")


def quoted(value: object, limit: int = QUOTED_LIMIT) -> str:
    """A submitted value as an error message shows it: quoted with control characters escaped (`repr`, so no
    terminal escape or line break gets through), cut to `limit` characters (a megabyte-long ID is not echoed back),
    and with the characters Markdown or HTML would act on backslash-escaped, so that a page rendering the message
    shows the value as text (no planted image or link)."""
    text = repr(str(value))
    if len(text) > limit:
        text = text[: limit - 2] + "…" + text[-1]
    return _ACTIVE.sub(r"\\\1", text)


class CollectError(ValueError):
    """Base class: `status_code` is the HTTP status an OpenRosa client receives for it."""

    status_code = 400


class InvalidSubmission(CollectError):
    """The submission cannot be read: malformed or unsafe XML, not UTF-8, no instanceID, no xml file."""

    status_code = 400


class UnknownForm(CollectError):
    """The submission names a form id or version this server does not serve and never served."""

    status_code = 404


class Forbidden(CollectError):
    """The volunteer may not do this: e.g. edit (meta/deprecatedID) a submission someone else sent."""

    status_code = 403


class NotFound(CollectError):
    """A submission, form or media file asked for by name does not exist."""

    status_code = 404


class Conflict(CollectError):
    """Stored data disagrees with the request: same instanceID with other content, a version republished, …"""

    status_code = 409


class ImportRowError(CollectError):
    """A row of an import cannot be stored; nothing of the import is kept."""

    status_code = 422


class SamplePlanError(CollectError):
    """A sample plan (blocks.csv) that cannot be published with the form; the message says what to fix."""

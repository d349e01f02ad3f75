"""Errors of the collection side, each carrying the HTTP status the OpenRosa routes answer with.

The message always names what is wrong, because Collect shows it to the volunteer and the CLI to the
coordinator.
"""


class CollectError(ValueError):
    """Base class: `status_code` is the HTTP status an OpenRosa client receives for it."""

    status_code = 400


class InvalidSubmission(CollectError):
    """The submission cannot be read: malformed or unsafe XML, not UTF-8, no instanceID, no xml file."""

    status_code = 400


class UnknownForm(CollectError):
    """The submission names a form id or version this server does not serve and never served."""

    status_code = 404


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

"""Import submissions from an ODK Central server through its OData feed, with the official client `pyodk`.

`Client.submissions.get_table(form_id, project_id, skip, top, count=True)` returns the OData JSON of the
Submissions table: one object per submission (its current version), groups nested, Central's metadata under
`__system`. Records are flattened to `group/field` keys and mapped onto the form's fields; the key is
`meta/instanceID`, so an edit made in Central later arrives with `meta/deprecatedID` and supersedes the version
imported before.
"""

from collections.abc import Callable, Iterator

from pyodk.client import Client

from collect.importers.records import FormMapping, flatten_record
from collect.store import ImportSummary, Store
from forms.xform import read_xform

PAGE_SIZE = 1000


def central_records(client: Client, central_form_id: str, project_id: int | None, page_size: int = PAGE_SIZE) -> Iterator[tuple[int, dict]]:
    """(total, flattened record) for every submission of a Central form, page by page."""
    skip = 0
    while True:
        page = client.submissions.get_table(form_id=central_form_id, project_id=project_id, skip=skip, top=page_size, count=True)
        for record in page["value"]:
            yield page["@odata.count"], flatten_record(record)
        skip += len(page["value"])
        if not page["value"] or skip >= page["@odata.count"]:
            return


def import_central(store: Store, client: Client, form_id: str, central_form_id: str | None = None, project_id: int | None = None, version: str | None = None, progress: Callable[[int, int], None] | None = None, page_size: int = PAGE_SIZE) -> ImportSummary:
    """Import every submission of a Central form onto a published form, all or nothing.

    `client` is a `pyodk.client.Client` (configured by ~/.pyodk_config.toml or explicitly); `central_form_id`
    defaults to `form_id`, `project_id` to the client's default project.
    """
    form = store.form_version(form_id, version)
    mapping = FormMapping(form_id, form.version, read_xform(store.form_xml(form_id, form.version)).fields(), "odk-central")
    totals: list[int] = []

    def records():
        for number, (total, record) in enumerate(central_records(client, central_form_id or form_id, project_id, page_size), start=1):
            totals.append(total)
            yield mapping.record(record, number)

    return store.import_records(records(), progress=None if progress is None else lambda done: progress(done, totals[-1]))

"""Import submissions from an ODK Central server through its OData feed, with the official client `pyodk`.

`Client.submissions.get_table(form_id, project_id, skip, top, count=True)` returns the OData JSON of the
Submissions table (Central's `lib/formats/odata.js`): one object per submission in its current version, groups
nested, geopoints as GeoJSON, Central's metadata under `__system`. Records are flattened to `group/field` keys and
mapped onto the form's fields.

Edits: Central keeps one submission across its versions, keyed by `__id` (the first version's instanceID); an
edited version has its own `meta/instanceID` and Central exports no `deprecatedID`. The record's `__id` is
therefore its `root_id`: the store finds the version imported before by it and supersedes it. `__system/reviewState`
set in Central after an import is taken on the next one.

Attachments (`attachments=True`): `GET …/submissions/{__id}/attachments` lists them (`name`, `exists`), and each
present one is fetched from `…/attachments/{name}` through pyodk's authenticated session.
"""

import logging
import mimetypes
from collections.abc import Callable, Iterator

from pyodk._endpoints.submission_attachments import SubmissionAttachmentService
from pyodk.client import Client

from collect.importers.records import FormMapping, flatten_record
from collect.store import Attachment, ImportSummary, Store
from forms.xform import read_xform

PAGE_SIZE = 1000
ATTACHMENT_URL = "projects/{project}/forms/{form}/submissions/{instance}/attachments/{name}"
log = logging.getLogger(__name__)


def central_records(
    client: Client, central_form_id: str, project_id: int | None, page_size: int = PAGE_SIZE
) -> Iterator[tuple[int, dict]]:
    """(total, flattened record) for every submission of a Central form, page by page."""
    skip = 0
    while True:
        page = client.submissions.get_table(
            form_id=central_form_id, project_id=project_id, skip=skip, top=page_size, count=True
        )
        for record in page["value"]:
            yield page["@odata.count"], flatten_record(record)
        skip += len(page["value"])
        if not page["value"] or skip >= page["@odata.count"]:
            return


def central_attachments(
    client: Client, central_form_id: str, project_id: int | None, instance_id: str
) -> list[Attachment]:
    """The attachments Central holds for a submission (its current version), downloaded."""
    project = project_id if project_id is not None else client.project_id
    listed = SubmissionAttachmentService(client.session, project).list(form_id=central_form_id, instance_id=instance_id)
    found = []
    for attachment in listed:
        if not attachment.exists:
            continue
        url = client.session.urlformat(
            ATTACHMENT_URL, project=project, form=central_form_id, instance=instance_id, name=attachment.name
        )
        response = client.session.response_or_error(method="GET", url=url, logger=log)
        found.append(
            Attachment(
                attachment.name,
                response.content,
                response.headers.get("Content-Type") or mimetypes.guess_type(attachment.name)[0],
            )
        )
    return found


def import_central(
    store: Store,
    client: Client,
    form_id: str,
    central_form_id: str | None = None,
    project_id: int | None = None,
    version: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    page_size: int = PAGE_SIZE,
    attachments: bool = False,
) -> ImportSummary:
    """Import every submission of a Central form onto a published form, all or nothing.

    `client` is a `pyodk.client.Client` (configured by ~/.pyodk_config.toml or explicitly); `central_form_id`
    defaults to `form_id`, `project_id` to the client's default project; `attachments` downloads them too.
    """
    form = store.form_version(form_id, version)
    mapping = FormMapping(
        form_id, form.version, read_xform(store.form_xml(form_id, form.version)).fields(), "odk-central"
    )
    totals: list[int] = []
    remote_form = central_form_id or form_id

    def records():
        for number, (total, record) in enumerate(central_records(client, remote_form, project_id, page_size), start=1):
            totals.append(total)
            files = (
                central_attachments(client, remote_form, project_id, record["__id"])
                if attachments and record.get("__system/attachmentsPresent")
                else ()
            )
            yield mapping.record(record, number, attachments=files)

    return store.import_records(
        records(), progress=None if progress is None else lambda done: progress(done, totals[-1])
    )

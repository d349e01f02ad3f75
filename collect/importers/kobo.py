"""Import submissions from a KoboToolbox server: `GET {server}/api/v2/assets/{uid}/data/` with a token.

Layouts from kpi's API (`kpi/views/v2/data.py`, `kpi/serializers/v2/asset_version.py`):
- the data endpoint pages with `start`/`limit` (at most 1000 per page) and says how many records there are in
  `count`; records are keyed by the `group/field` XML paths, values are XML values, with Kobo's metadata
  (`_uuid`, `_submission_time`, `_validation_status` as an object whose `uid` is the state, `__version__`,
  `meta/rootUuid` the submission across its edits, `_attachments`);
- Kobo replaces the form's id (by the asset uid) and version (by its deployment id, `__version__`) on deploy.
  The deployment's own content, `GET …/assets/{uid}/versions/{__version__}/` → `content.settings.version`,
  gives back the XLSForm's version, so that rows keep the version they were filled in (the version-drift check);
  `kobo_versions` maps ids the content does not name;
- a repeat group is a list of objects under its path (`"visits": [{"visits/visitor": …}]`): a field answered
  only there keeps its first value, as OpenRosa submissions do, and the record keeps them all;
- `_attachments[]` carries `download_url` (kpi's `…/data/{_id}/attachments/{uid}/`), `filename` (the stored path,
  whose base name is the answer), `mimetype`, `is_deleted`; downloaded with the same token when asked.
"""

import posixpath
from collections.abc import Callable, Iterator, Mapping

import httpx

from collect.errors import CollectError
from collect.importers.records import FormMapping
from collect.store import Attachment, ImportSummary, Store
from forms.xform import read_xform

PAGE_SIZE = 1000


def _get(client: httpx.Client, url: str, what: str, **params) -> httpx.Response:
    response = client.get(url, params=params or None)
    if response.status_code != 200:
        raise CollectError(f"KoboToolbox answered {response.status_code} for {what}: {response.text[:200]}")
    return response


def kobo_records(client: httpx.Client, asset_uid: str, page_size: int = PAGE_SIZE) -> Iterator[tuple[int, dict]]:
    """(total, record) for every submission of an asset, page by page."""
    start = 0
    while True:
        page = _get(
            client,
            f"/api/v2/assets/{asset_uid}/data/",
            f"asset {asset_uid}",
            format="json",
            start=start,
            limit=page_size,
        ).json()
        for record in page["results"]:
            yield page["count"], record
        start += len(page["results"])
        if not page.get("next") or not page["results"]:
            return


def deployed_version(client: httpx.Client, asset_uid: str, kobo_version: str) -> str | None:
    """The XLSForm `version` setting of one Kobo deployment, or None when its content has none."""
    content = (
        _get(
            client,
            f"/api/v2/assets/{asset_uid}/versions/{kobo_version}/",
            f"version {kobo_version} of asset {asset_uid}",
            format="json",
        )
        .json()
        .get("content")
        or {}
    )
    settings = content.get("settings") or {}
    if isinstance(settings, list):  # older content keeps settings as a one-row sheet
        settings = settings[0] if settings else {}
    return str(settings["version"]) if settings.get("version") else None


def kobo_attachments(client: httpx.Client, record: Mapping) -> list[Attachment]:
    """The record's attachments that Kobo still holds, downloaded with the importer's token."""
    found = []
    for item in record.get("_attachments") or []:
        if item.get("is_deleted"):
            continue
        name = item.get("media_file_basename") or posixpath.basename(item.get("filename", ""))
        response = _get(client, item["download_url"], f"attachment {name}")
        found.append(Attachment(name, response.content, item.get("mimetype") or response.headers.get("content-type")))
    return found


def kobo_repeats(record: Mapping) -> list[dict]:
    """The rows of a record's repeat groups: lists of objects under the groups' paths (not Kobo's `_` lists)."""
    return [
        row
        for key, value in record.items()
        if not key.startswith("_") and isinstance(value, list)
        for row in value
        if isinstance(row, dict)
    ]


class _VersionMap(dict):
    """Kobo deployment id → form version, asked of the server the first time an id is met."""

    def __init__(self, client: httpx.Client, asset_uid: str, given: Mapping[str, str]):
        super().__init__(given)
        self.client, self.asset_uid = client, asset_uid

    def __missing__(self, kobo_version: str) -> str:
        version = deployed_version(self.client, self.asset_uid, kobo_version)
        if version is None:
            raise CollectError(
                f"el despliegue {kobo_version} de Kobo no indica la versión del formulario; use --kobo-version {kobo_version}=VERSIÓN / "
                f"Kobo deployment {kobo_version} names no form version; map it with --kobo-version {kobo_version}=VERSION"
            )
        self[kobo_version] = version
        return version


def import_kobo(
    store: Store,
    server: str,
    token: str,
    asset_uid: str,
    form_id: str,
    version: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    page_size: int = PAGE_SIZE,
    attachments: bool = False,
    kobo_versions: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Import every submission of a Kobo asset onto a published form, all or nothing.

    `token` is the Kobo API token (Account settings → Security); `transport` lets tests replay recorded responses;
    `attachments` downloads each record's files; `kobo_versions` maps deployment ids whose content names no version.
    """
    form = store.form_version(form_id, version)
    fields = read_xform(store.form_xml(form_id, form.version)).fields()
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Token {token}"}, transport=transport, timeout=60
    ) as client:
        mapping = FormMapping(
            form_id, form.version, fields, "kobo", _VersionMap(client, asset_uid, kobo_versions or {})
        )
        totals: list[int] = []

        def records():
            for number, (total, record) in enumerate(kobo_records(client, asset_uid, page_size), start=1):
                totals.append(total)
                yield mapping.record(
                    record, number, kobo_repeats(record), kobo_attachments(client, record) if attachments else ()
                )

        return store.import_records(
            records(), progress=None if progress is None else lambda done: progress(done, totals[-1])
        )

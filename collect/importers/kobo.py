"""Import submissions from a KoboToolbox server: `GET {server}/api/v2/assets/{uid}/data/` with a token.

The endpoint pages with `start`/`limit` (at most 1000 per page) and says how many records there are in `count`;
every page is requested at once in JSON and mapped onto the form's fields (Kobo's JSON keys are the `group/field`
XML paths, values the XML values).
"""

from collections.abc import Callable, Iterator

import httpx

from collect.errors import CollectError
from collect.importers.records import FormMapping
from collect.store import ImportSummary, Store
from forms.xform import read_xform

PAGE_SIZE = 1000


def kobo_records(client: httpx.Client, asset_uid: str, page_size: int = PAGE_SIZE) -> Iterator[tuple[int, dict]]:
    """(total, record) for every submission of an asset, page by page."""
    start = 0
    while True:
        response = client.get(f"/api/v2/assets/{asset_uid}/data/", params={"format": "json", "start": start, "limit": page_size})
        if response.status_code != 200:
            raise CollectError(f"KoboToolbox answered {response.status_code} for asset {asset_uid}: {response.text[:200]}")
        page = response.json()
        for record in page["results"]:
            yield page["count"], record
        start += len(page["results"])
        if not page.get("next") or not page["results"]:
            return


def import_kobo(store: Store, server: str, token: str, asset_uid: str, form_id: str, version: str | None = None, progress: Callable[[int, int], None] | None = None, transport: httpx.BaseTransport | None = None, page_size: int = PAGE_SIZE) -> ImportSummary:
    """Import every submission of a Kobo asset onto a published form, all or nothing.

    `token` is the Kobo API token (Account settings → Security); `transport` lets tests replay recorded responses.
    """
    form = store.form_version(form_id, version)
    mapping = FormMapping(form_id, form.version, read_xform(store.form_xml(form_id, form.version)).fields(), "kobo")
    with httpx.Client(base_url=server, headers={"Authorization": f"Token {token}"}, transport=transport, timeout=60) as client:
        totals: list[int] = []

        def records():
            for number, (total, record) in enumerate(kobo_records(client, asset_uid, page_size), start=1):
                totals.append(total)
                yield mapping.record(record, number)

        return store.import_records(records(), progress=None if progress is None else lambda done: progress(done, totals[-1]))

"""Users never see the server's folders and files: an uncaught error shows its type only (the message and the
traceback go to the console), an unreadable upload is named by its own name, downloads name the plan file only."""

import pytest

from analysis import export
from collect.errors import ImportRowError
from collect.importers.file import import_file
from collect.publish import publish_shipped_forms
from dashboard import data, first_run

SECRET = "/srv/sdg16-data/private/sdg16.db"


def test_an_uncaught_error_does_not_show_its_message_or_traceback(data_dir, app_as, monkeypatch):
    def fail(role):
        raise OSError(2, "No such file or directory", SECRET)

    monkeypatch.setattr(first_run, "banner", fail)
    at = app_as("coordinator")
    [shown] = at.exception
    assert shown.proto.type == "FileNotFoundError"
    assert SECRET not in str(shown.proto) and not shown.proto.stack_trace


@pytest.mark.parametrize(
    ("name", "content"), [("export.xlsx", b"not a zip"), ("export.csv", None)], ids=["not-xlsx", "unreadable"]
)
def test_an_unreadable_upload_names_the_file_not_its_folder(data_dir, tmp_path, name, content):
    path = tmp_path / "upload-folder" / name
    path.parent.mkdir()
    if content is None:
        path.mkdir()  # cannot be opened as a file: the system's error names the full path
    else:
        path.write_bytes(content)
    publish_shipped_forms(data.store())
    with pytest.raises(ImportRowError) as raised:
        import_file(data.store(), path, data.FORM_ID)
    assert name in str(raised.value) and str(tmp_path) not in str(raised.value)


def test_the_estimates_metadata_names_the_plan_file_not_its_folder(demo_data):
    result = data.shown().estimates()
    metadata = export.table_metadata(data.plan(), result, "assumption")
    assert metadata["plan_file"] == data.plan().path.name
    assert not any(isinstance(value, str) and str(data.plan().path.parent) in value for value in metadata.values())

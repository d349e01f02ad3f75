import pytest
from collect_samples import tiny_submission, tiny_xform
from test_importers_file import KOBO_CSV
from typer.testing import CliRunner

from collect.store import Store
from sdg16 import collect_commands

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    store = Store.open()
    store.publish_form(tiny_xform())
    store.close()
    return tmp_path


def run(*args: str):
    return runner.invoke(collect_commands.app, list(args))


def test_volunteer_add_list_revoke_reissue(data_dir):
    added = run("volunteer", "add", "Ana Torres", "--project", "trujillo", "--server-url", "http://10.0.0.5:8501")
    assert added.exit_code == 0, added.output
    assert "http://10.0.0.5:8501/v1/key/" in added.output and "/projects/trujillo" in added.output
    assert "/projects/trujillo/forms/sdg16_perception/webform" in added.output
    assert (data_dir / "volunteers" / "Ana_Torres.png").exists()
    assert run("volunteer", "add", "Ana Torres").exit_code == 1
    assert "Ana Torres\ttrujillo" in run("volunteer", "list").output
    assert run("volunteer", "revoke", "Ana Torres").exit_code == 0
    assert "revoked" in run("volunteer", "list").output
    assert run("volunteer", "reissue", "Ana Torres", "--server-url", "http://h").exit_code == 0
    assert "active" in run("volunteer", "list").output
    assert run("volunteer", "revoke", "Nobody").exit_code == 1


def test_status_and_import_file(data_dir):
    assert "No submissions" in run("status").output
    store = Store.open()
    store.receive(tiny_submission())
    store.close()
    path = data_dir / "kobo.csv"
    path.write_text(KOBO_CSV)
    imported = run("import", "file", str(path), "--form", "tiny")
    assert imported.exit_code == 0, imported.output
    assert "Imported 2 new submissions" in imported.output and "photo_URL" in imported.output
    status = run("status").output
    assert "tiny" in status and "2026112801" in status and " 3 " in status
    bad = data_dir / "bad.csv"
    bad.write_text(KOBO_CSV.replace(";34;", ";old;"))
    failed = run("import", "file", str(bad), "--form", "tiny")
    assert failed.exit_code == 1 and "row 2: age must be a whole number" in failed.output


def test_import_into_a_fresh_store_publishes_the_shipped_form_first(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    path = tmp_path / "central.csv"
    path.write_text(
        "SubmissionDate,place-district,consent,meta-instanceID,KEY,ReviewState\n2026-11-20T14:02:11.123Z,trujillo,yes,uuid:z1,uuid:z1,approved\n"
    )
    imported = run("import", "file", str(path), "--form", "sdg16_perception")
    assert imported.exit_code == 0, imported.output
    frame = Store.open().submissions_frame("sdg16_perception")
    assert frame[["instance_id", "district", "consent", "review_state"]].values.tolist() == [
        ["uuid:z1", "trujillo", "yes", "approved"]
    ]


def test_volunteer_add_prints_the_ascii_digest_username_of_a_name_with_accents(data_dir):
    added = run("volunteer", "add", "José Ñique", "--server-url", "http://10.0.0.5:8501")
    assert added.exit_code == 0, added.output
    assert "usuario / username 'Jose Nique'" in added.output and "use el usuario 'Jose Nique'" in added.output
    assert "use el usuario" not in run("volunteer", "add", "Ana Torres", "--server-url", "http://h").output

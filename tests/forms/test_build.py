"""forms/build.py: compile + ODK Validate + media, the cache, and errors that name what to fix."""

import hashlib
import shutil
import xml.etree.ElementTree as ET

import pytest

from forms.build import DATA_DIR, FORMS_DIR, FormBuildError, build_all, build_form, xlsform_paths

SMALL_FORM = """
| survey   |
|          | type                                     | name          | label         | choice_filter        |
|          | select_one districts                     | district      | District      |                      |
|          | select_one_from_file neighbourhoods.csv  | neighbourhood | Neighbourhood | district=${district} |
| choices  |
|          | list_name | name        | label       |
|          | districts | el_porvenir | El Porvenir |
| settings |
|          | form_id   | version    | form_title |
|          | small     | 2026112801 | Small      |
"""


@pytest.mark.parametrize("xlsx", xlsform_paths(), ids=lambda p: p.name)
def test_every_form_compiles_and_passes_odk_validate(xlsx, build_dir, built):
    form = build_form(xlsx, build_dir, validate=True)  # the questionnaire itself: the session build, from cache
    assert form.validated
    assert form.warnings == ()
    root = ET.fromstring(form.xform_bytes)
    instance_root = root.find(".//{http://www.w3.org/2002/xforms}instance/*")
    assert (instance_root.get("id"), instance_root.get("version")) == (form.form_id, form.version)


def test_built_form_describes_itself(built):
    assert (built.form_id, built.version) == ("sdg16_perception", "2026120401")
    assert "ODS 16" in built.title
    assert built.xlsx_bytes == (FORMS_DIR / "sdg16_perception.xlsx").read_bytes()
    assert built.xform_md5 == hashlib.md5(built.xform_path.read_bytes()).hexdigest()


def test_media_are_copied_beside_the_xform_with_their_md5(built):
    blocks, media = built.media
    assert (blocks.name, media.name) == ("blocks.csv", "neighbourhoods.csv")
    assert blocks.path.read_bytes() == (DATA_DIR / "blocks.csv").read_bytes()
    assert media.path.parent == built.xform_path.parent / "sdg16_perception-media"
    assert media.path.read_bytes() == (DATA_DIR / "neighbourhoods.csv").read_bytes()
    assert media.md5 == hashlib.md5(media.path.read_bytes()).hexdigest()


@pytest.fixture
def small_form(tmp_path, xlsform_from_md):
    """A form whose media file sits beside it, so the test may change it without touching data/."""
    xlsx = xlsform_from_md(SMALL_FORM, "small")
    shutil.copy(DATA_DIR / "neighbourhoods.csv", xlsx.parent / "neighbourhoods.csv")
    return xlsx


def test_unchanged_inputs_are_not_rebuilt(small_form, tmp_path):
    out = tmp_path / "out"
    first = build_form(small_form, out, validate=False)
    written = first.xform_path.stat().st_mtime_ns
    again = build_form(small_form, out, validate=False)
    assert again == first
    assert again.xform_path.stat().st_mtime_ns == written


def test_a_changed_media_file_is_rebuilt(small_form, tmp_path):
    out = tmp_path / "out"
    first = build_form(small_form, out, validate=False)
    csv = small_form.parent / "neighbourhoods.csv"
    csv.write_text(
        csv.read_text(encoding="utf-8") + "nuevo,Nuevo,el_porvenir,El Porvenir,0,-8.0,-79.0\n", encoding="utf-8"
    )
    second = build_form(small_form, out, validate=False)
    assert second.media[0].md5 != first.media[0].md5
    assert second.media[0].path.read_bytes() == csv.read_bytes()


def test_a_changed_xlsx_is_rebuilt(small_form, tmp_path, xlsform_from_md):
    out = tmp_path / "out"
    build_form(small_form, out, validate=False)
    xlsform_from_md(SMALL_FORM.replace("2026112801", "2026112802"), "small")
    assert build_form(small_form, out, validate=False).version == "2026112802"


def test_a_media_file_no_longer_referenced_is_removed(small_form, tmp_path, xlsform_from_md):
    out = tmp_path / "out"
    [media] = build_form(small_form, out, validate=False).media
    xlsform_from_md(
        SMALL_FORM.replace("select_one_from_file neighbourhoods.csv", "text").replace("district=${district}", ""),
        "small",
    )
    assert build_form(small_form, out, validate=False).media == ()
    assert not media.path.exists()


def test_a_validated_build_is_not_served_from_an_unvalidated_cache(small_form, tmp_path):
    out = tmp_path / "out"
    assert not build_form(small_form, out, validate=False).validated
    assert build_form(small_form, out, validate=True).validated


def test_build_all_builds_each_form_in_the_folder(small_form, tmp_path):
    (small_form.parent / "~$small.xlsx").write_bytes(b"Excel lock file")  # Excel's, while the form is open
    built = build_all(small_form.parent, tmp_path / "out", validate=False)
    assert [b.form_id for b in built] == ["small"]


def test_pyxform_error_names_the_sheet_and_row(xlsform_from_md, tmp_path):
    broken = xlsform_from_md(
        """
        | survey |
        |        | type | name | label | relevant    |
        |        | text | a    | A     |             |
        |        | text | b    | B     | ${zz} = 'x' |
        """,
        "broken",
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(broken, tmp_path / "out", validate=False)
    message = str(caught.value)
    assert message.startswith("broken.xlsx: [row : 3] On the 'survey' sheet")
    assert "'zz'" in message


def test_choices_error_names_the_choices_sheet(xlsform_from_md, tmp_path):
    broken = xlsform_from_md(
        """
        | survey  |
        |         | type          | name | label |
        |         | select_one yn | a    | A     |
        | choices |
        |         | list_name | name | label |
        |         | yn        | yes  | Yes   |
        |         | yn        | yes  | No    |
        """,
        "dup",
    )
    with pytest.raises(FormBuildError, match=r"\[row : 3\] On the 'choices' sheet"):
        build_form(broken, tmp_path / "out", validate=False)


def test_odk_validate_rejection_is_reported(xlsform_from_md, tmp_path):
    broken = xlsform_from_md(
        """
        | survey |
        |        | type    | name | label | constraint |
        |        | integer | a    | A     | . >        |
        """,
        "invalid",
    )
    with pytest.raises(FormBuildError, match=r"ODK Validate Errors(.|\n)*constraint"):
        build_form(broken, tmp_path / "out", validate=True)
    assert not (tmp_path / "out" / "invalid.build.json").exists()


def test_missing_media_file_is_named(xlsform_from_md, tmp_path):
    xlsx = xlsform_from_md(SMALL_FORM.replace("neighbourhoods.csv", "barrios.csv"), "nomedia")
    with pytest.raises(FormBuildError, match="media file 'barrios.csv'"):
        build_form(xlsx, tmp_path / "out", validate=False)


def test_validating_without_java_is_an_error_not_a_skip(small_form, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(FormBuildError, match="Java"):
        build_form(small_form, tmp_path / "out", validate=True)

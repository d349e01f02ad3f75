from collect.form_fields import form_fields
from collect_samples import tiny_xform


def test_fields_with_groups_types_choices_and_notes():
    fields = {field.name: field for field in form_fields(tiny_xform())}
    assert list(fields) == ["deviceid", "psu", "age", "main_problems", "photo", "thanks"]
    assert fields["psu"].groups == ("household",) and fields["age"].type == "int"
    assert fields["main_problems"].multiple and fields["main_problems"].choices == {"robbery", "gangs"}
    assert fields["thanks"].note and not fields["deviceid"].note and not fields["psu"].note
    assert fields["main_problems"].spellings() == ["household/main_problems", "household-main_problems", "main_problems"]


def test_values_the_form_could_not_have_produced():
    fields = {field.name: field for field in form_fields(tiny_xform())}
    assert fields["age"].problem("34") is None and "whole number" in fields["age"].problem("3.5")
    assert fields["main_problems"].problem("gangs robbery") is None
    assert "'fires'" in fields["main_problems"].problem("gangs fires")
    assert fields["psu"].problem("anything") is None

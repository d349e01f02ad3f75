import pytest
from conftest import MAIN, PASSWORD
from streamlit.testing.v1 import AppTest


def test_signed_out_visitor_sees_only_the_sign_in_form(users):
    at = AppTest.from_file(MAIN, default_timeout=30).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at.text_input[0].input("the_researcher")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert "Wrong username or password." in [e.value for e in at.error]
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert "Signed in as **the_researcher** (researcher)" in [c.value for c in at.sidebar.caption]


def test_one_time_password_must_be_changed_first(data_dir, capsys):
    at = AppTest.from_file(MAIN, default_timeout=30).run()
    printed = capsys.readouterr().out
    one_time = printed.split("one-time password")[1].split()[0]
    at.text_input[0].input("admin")
    at.text_input[1].input(one_time)
    at.button[0].click().run()
    assert at.title[0].value == "Choose a new password"
    at.text_input[0].input("my new admin password")
    at.text_input[1].input("my new admin password")
    at.button[0].click().run()
    assert "Signed in as **admin** (admin)" in [c.value for c in at.sidebar.caption]


ALL_PAGES = {"monitoring", "volunteers", "account"}
ROLE_PAGES = {
    "admin": ALL_PAGES,
    "coordinator": {"monitoring", "volunteers", "account"},
    "researcher": {"account"},
}


@pytest.mark.parametrize("role", ROLE_PAGES)
def test_each_role_opens_its_pages_and_no_other(app_as, role):
    at = app_as(role)
    assert not at.exception
    for page in sorted(ALL_PAGES):
        if page in ROLE_PAGES[role]:
            at.switch_page(f"views/{page}.py").run()
            assert not at.exception, (role, page, at.exception)
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"views/{page}.py")

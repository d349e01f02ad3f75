import pytest
from streamlit.navigation.page import calc_hash


def test_signed_out_visitor_sees_only_the_sign_in_form(users, signed_out_app, password):
    at = signed_out_app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at.text_input[0].input("the_researcher")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert "Wrong username or password." in [e.value for e in at.error]
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert "Signed in as **the\\_researcher** (researcher)" in [c.value for c in at.sidebar.caption]


def test_one_time_password_must_be_changed_first(data_dir, capsys, signed_out_app):
    at = signed_out_app().run()
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


ALL_PAGES = {"estimates", "downloads", "monitoring", "volunteers", "importing", "account"}
ROLE_PAGES = {
    "admin": ALL_PAGES,
    "coordinator": ALL_PAGES,
    "researcher": {"estimates", "downloads", "account"},
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


def _everything_shown(at) -> str:
    """Every value the page put on screen: texts, widget options and labels, table cells, the sidebar."""

    def walk(node):
        yield str(getattr(node, "proto", ""))
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return "\n".join([*walk(at._tree), *(d.value.to_csv() for d in at.dataframe)])


@pytest.mark.parametrize("page", sorted(ROLE_PAGES["researcher"]))
def test_a_researcher_never_sees_personal_data(demo_data, app_as, page):
    from dashboard import data

    frame = data.submissions(include_rejected=True)
    at = app_as("researcher", page)
    assert not at.exception
    shown = _everything_shown(at)
    for tab in [tab.label for tab in at.tabs][1:]:  # pages run only their open tab: open each
        at.session_state[f"{page}_tab"] = tab
        shown += _everything_shown(at.run())
        assert not at.exception, tab
    names = set(frame["volunteer"].dropna())
    assert not [n for n in names if n in shown], "volunteer names"
    assert "uuid:" not in shown, "instance ids"
    gps = frame["gps"].dropna().str.split(" ").str[0]
    assert not [p for p in gps.head(200) if p in shown], "GPS points"
    notes = frame["volunteer_notes"].dropna() if "volunteer_notes" in frame else []
    assert not [n for n in notes if n in shown], "free text"
    assert "Synthetic data — demo round" in shown


def test_the_demo_is_offered_on_an_empty_store_and_loads_in_one_click(users, app_as, monkeypatch):
    from dashboard import first_run

    monkeypatch.setattr(first_run, "DEMO_VISITS", 60)
    at = app_as("coordinator")
    assert any("The store is empty" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Load the demo round").click().run()
    assert not at.exception
    assert any("Synthetic data — demo round" in w.value for w in at.warning)
    researcher = app_as("researcher")
    assert not [b for b in researcher.button if b.label == "Load the demo round"]


@pytest.mark.parametrize(
    ("role", "page"), [("coordinator", "monitoring"), ("researcher", "estimates"), ("researcher", "downloads")]
)
def test_on_a_first_start_pages_draw_at_once_with_a_progress_bar_and_fill_in_when_ready(
    first_start, app_as, role, page, monkeypatch
):
    from analysis import pipeline
    from dashboard import data

    monkeypatch.setattr(pipeline, "run", lambda *args: pytest.fail("a page computed the plan itself"))
    at = app_as(role, page)
    assert not at.exception
    assert f"First look at {data.store().version().submissions:,} submissions" in at.get("progress")[0].proto.text
    monkeypatch.undo()
    data.refresh()  # what the warmer does
    at.run()
    assert not at.exception and not at.get("progress") and (at.dataframe or at.get("download_button"))


def test_a_researcher_following_a_coordinators_link_reads_that_it_is_not_for_their_role(app_as):
    at = app_as("researcher", language="es")
    at._page_hash = calc_hash("monitoring")  # what the browser asks for at /monitoring (st.Page hashes url_path)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Seguimiento de campo"
    assert at.warning[0].value.startswith("Esta página no es para su rol (investigación)")
    assert not at.dataframe and not at.tabs  # nothing of the page itself

"""The Account page: the current password is asked for, admins reset passwords, the table is current at once."""

from dashboard.data import accounts


def test_changing_a_password_asks_for_the_current_one(app_as, password):
    at = app_as("coordinator", "account")
    current, new, again = at.text_input[:3]
    assert current.label == "Current password"
    current.input("not my password")
    new.input("a brand new password")
    again.input("a brand new password")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert "The current password is wrong." in [e.value for e in at.error]
    assert accounts().verify("the_coordinator", password) is not None  # unchanged
    current, new, again = at.text_input[:3]
    current.input(password)
    new.input("a brand new password")
    again.input("a brand new password")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert accounts().verify("the_coordinator", "a brand new password") is not None


def test_an_admin_resets_a_password_and_the_accounts_table_shows_changes_at_once(app_as):
    at = app_as("admin", "account")
    new_user = next(t for t in at.text_input if t.label == "New username")
    new_user.input("maria")
    next(b for b in at.button if b.label == "Add account").click().run()
    assert "maria" in at.dataframe[0].value["username"].tolist()  # the same rerun's table, no reload
    assert any("Account maria created" in s.value for s in at.success)
    manage = next(s for s in at.selectbox if s.label == "Account")
    manage.set_value("the_researcher")
    next(b for b in at.button if b.label == "Reset password").click().run()
    note = next(s.value for s in at.success if "New one-time password for the\\_researcher" in s.value)
    one_time = note.split("`")[1]
    user = accounts().verify("the_researcher", one_time)
    assert user is not None and user.must_change_password
    manage = next(s for s in at.selectbox if s.label == "Account")
    manage.set_value("maria")
    next(b for b in at.button if b.label == "Remove").click().run()
    assert "maria" not in at.dataframe[0].value["username"].tolist()

from typer.testing import CliRunner

from sdg16.dashboard_commands import app


def test_user_add_prints_a_one_time_password_that_signs_in(data_dir):
    from dashboard.data import accounts

    result = CliRunner().invoke(app, ["user", "add", "--role", "admin"])
    assert result.exit_code == 0, result.output
    one_time = result.output.split("first sign-in): ")[1].strip()
    user = accounts().verify("admin", one_time)
    assert user.role == "admin" and user.must_change_password


def test_user_add_with_typed_password_list_and_remove(data_dir):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["user", "add", "rosa", "--role", "researcher", "--set-password"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "rosa\tresearcher" in runner.invoke(app, ["user", "list"]).output
    assert runner.invoke(app, ["user", "remove", "rosa"]).exit_code == 0
    assert "rosa" not in runner.invoke(app, ["user", "list"]).output


def test_bad_role_is_named(data_dir):
    result = CliRunner().invoke(app, ["user", "add", "x", "--role", "boss"])
    assert result.exit_code != 0 and "Unknown role 'boss'" in result.output


def test_user_disable_and_enable(data_dir):
    from dashboard.data import accounts

    runner = CliRunner()
    runner.invoke(
        app,
        ["user", "add", "rosa", "--role", "researcher", "--set-password"],
        input="a long password\na long password\n",
    )
    disabled = runner.invoke(app, ["user", "disable", "rosa"])
    assert disabled.exit_code == 0 and "desactivada" in disabled.output
    assert "rosa\tresearcher  (desactivada / disabled)" in runner.invoke(app, ["user", "list"]).output
    assert accounts().verify("rosa", "a long password") is None
    assert runner.invoke(app, ["user", "enable", "rosa"]).exit_code == 0
    assert accounts().verify("rosa", "a long password") is not None
    assert runner.invoke(app, ["user", "disable", "nobody"]).exit_code != 0

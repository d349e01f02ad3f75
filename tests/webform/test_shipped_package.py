"""The web form works from what the Python package ships, on a machine without Node, in a browser without XSLT.

- the server runs from a copy of the checkout without `webform/` (no sources, no node_modules) and with a PATH on
  which there is no `node`, `npm` or `npx` (only `java`, for ODK Validate), as after `pip install -e .` on a
  coordinator's laptop; the volunteer's page renders the questionnaire from the shipped bundle;
- everything the package ships for the web form is declared as package data, so a wheel carries it too.
"""

import fnmatch
import shutil
import tomllib
from pathlib import Path

import pytest
from webform_interview import FORM_ID, WebForm
from webform_server import REPO, serve

from collect.volunteers import add_volunteer
from collect.webform import DIST, webform_url

pytestmark = pytest.mark.browser

NODE_TOOLS = ("node", "nodejs", "npm", "npx", "corepack")
LEFT_OUT = ("webform", ".git", "_build", "test-artifacts", "sdg16-data", "node_modules", "__pycache__", "*.egg-info")


def path_without_node(folder: Path) -> str:
    """A PATH with only the tools the server runs (java), none of Node's."""
    folder.mkdir()
    java = shutil.which("java")
    if java is None:
        pytest.skip("java not found: publishing the questionnaire runs ODK Validate")
    (folder / "java").symlink_to(Path(java).resolve())
    path = str(folder)
    assert all(shutil.which(tool, path=path) is None for tool in NODE_TOOLS)
    return path


def test_the_page_renders_from_the_package_without_node(tmp_path, context):
    checkout = Path(
        shutil.copytree(REPO, tmp_path / "checkout", ignore=shutil.ignore_patterns(*LEFT_OUT), symlinks=True)
    )
    assert not (checkout / "webform").exists() and (checkout / "collect" / "webform_dist" / "index.html").is_file()
    data = tmp_path / "data"
    data.mkdir()
    with serve(data, cwd=checkout, path=path_without_node(tmp_path / "bin")) as server:
        url = webform_url(add_volunteer(server.store, "sin-node").server_url(server.base_url), FORM_ID)
        form = WebForm(context.new_page())
        form.open(url)
        assert form.page.evaluate("typeof XSLTProcessor") == "undefined"  # the browser really has no XSLT
        form.expect_shown("district")
        assert form.page.locator("#submit-form").inner_text() == "Terminar entrevista"


def test_a_wheel_carries_every_file_of_the_shipped_web_form():
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["collect"]
    shipped = [path.relative_to(DIST.parent).as_posix() for path in DIST.rglob("*") if path.is_file()]
    assert len(shipped) >= 8

    def declared(name: str) -> bool:  # setuptools' globs: `*` stays within one folder
        return any(fnmatch.fnmatch(name, pattern) and name.count("/") == pattern.count("/") for pattern in package_data)

    assert [name for name in shipped if not declared(name)] == []

import importlib
import xml.etree.ElementTree as ET

from starlette.routing import Mount
from starlette.testclient import TestClient

import collect.asgi
from collect.asgi import create_app, routes
from collect.volunteers import add_volunteer

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"


def test_routes_put_the_web_form_before_the_openrosa_mounts(engine):
    from collect.store import Store

    listed = routes(Store(engine))
    mounts = [i for i, route in enumerate(listed) if isinstance(route, Mount)]
    assert mounts and all(not isinstance(route, Mount) for route in listed[: mounts[0]])
    assert any(route.path.endswith("/webform") for route in listed[: mounts[0]])


def test_standalone_app_serves_the_shipped_form(engine):
    from collect.store import Store

    store = Store(engine)
    volunteer = add_volunteer(store, "Ana")
    client = TestClient(create_app(store))
    listing = ET.fromstring(client.get(f"/v1/key/{volunteer.token}/projects/sdg16/formList").content)
    assert "sdg16_perception" in [x.findtext(f"{XFORMS_LIST}formID") for x in listing.findall(f"{XFORMS_LIST}xform")]


def test_app_is_built_on_first_access_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SDG16_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SDG16_DATABASE_URL", raising=False)
    module = importlib.reload(collect.asgi)
    assert "app" not in vars(module)
    assert module.app is module.app
    assert (tmp_path / "sdg16.db").exists()

"""Every API error is the one JSON shape the schema describes, however deep the field at fault.

Found by schemathesis over the real stack (tests/e2e/test_api_schema_fuzz_e2e.py): nested
field errors (an item of a list, a key of a mapping) broke the 400's schema, and a path
under /api/ that no route matches answered Django's HTML page.
"""

from __future__ import annotations

import jsonschema
import pytest

from tests.functional.test_inventory_api import _json_schema


def _answer_schema(schema: dict, path: str, method: str, status: int) -> dict:
    answer = schema["paths"][path][method]["responses"][str(status)]
    shape = answer["content"]["application/json"]["schema"]
    return {**_json_schema(shape), "$defs": _json_schema(schema["components"]["schemas"])}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/jobs/", {}, "kind"),  # a field named like the error's own "kind"
        ("/api/v1/jobs/", {"kind": "image.tag", "host": "h1"}, "params"),  # nested messages
        ("/api/v1/containers/", {"image": "busybox", "command": [""]}, "command"),  # per item
        ("/api/v1/containers/", {"image": "busybox", "labels": {"a": "x" * 5000}}, "labels"),
    ],
)
def test_a_400_matches_the_schema_however_deep_the_field(
    path, body, field, make_user, make_host, api_client
):
    make_host("h1")
    client = api_client(make_user(staff=True))
    r = client.post(path, body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    schema = client.get("/api/schema/?format=json").json()
    jsonschema.validate(r.json(), _answer_schema(schema, path, "post", 400))


@pytest.mark.parametrize(
    "path", ["/api/v1/jobs/0.5/output/", "/api/v1/nothing-here/", "/api/host/v1/jobs/x/claim/"]
)
def test_an_unmatched_api_path_is_a_json_404(path, make_user, api_client):
    r = api_client(make_user()).get(path)
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "not found", "kind": "not_found"}


def test_pages_keep_their_html_404(make_user, client):
    client.force_login(make_user())
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")


def test_a_null_character_in_a_named_object_is_a_field_error(make_user, api_client, make_host):
    """PostgreSQL's text holds no NUL: the lookup would have been a 500 there."""
    make_host("h1")
    client = api_client(make_user(staff=True))
    for path in ("/api/v1/networks/prune/", "/api/v1/containers/", "/api/v1/jobs/"):
        r = client.post(
            path, {"host": "h\x001", "image": "busybox", "kind": "host.check"}, format="json"
        )
        assert r.status_code == 400, (path, r.content)
        assert r.json()["host"] == ["Null characters are not allowed."], path

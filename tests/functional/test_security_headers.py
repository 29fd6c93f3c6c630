"""The pages' defences in the browser: a strict CSP on every response, pages with nothing
inline for it to refuse, an HttpOnly CSRF cookie and the token in the page instead,
and API docs built from this site's files only."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from webapp.jobs.models import Job

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "an inline <script>"),
    (re.compile(r"<style\b"), "an inline <style>"),
    (re.compile(r"\sstyle="), "a style attribute"),
    (re.compile(r"\son[a-z]+="), "an event handler attribute"),
]


def _policy(r) -> dict[str, str]:
    header = r["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.fixture
def signed_in(make_team, make_user, make_host):
    team = make_team("blue")
    user = make_user("alice", team=team)
    job = Job.objects.create(kind="host.check", host=make_host("h1"), team=team, requester=user)
    client = Client()
    client.force_login(user)
    return client, job


def test_every_kind_of_response_carries_the_policy(signed_in, client, db):
    user_client, job = signed_in
    responses = {
        "sign-in page": client.get("/login/"),
        "dashboard": user_client.get("/"),
        "job page": user_client.get(f"/jobs/{job.pk}/"),
        "api docs": client.get("/api/docs/"),
        "api docs script": client.get("/api/docs/?script="),
        "api": user_client.get("/api/v1/jobs/"),
        "not found": user_client.get("/no/such/page/"),
    }
    for what, r in responses.items():
        policy = _policy(r)
        assert policy["default-src"] == "'self'", what
        assert policy["script-src"] == "'self'", what
        assert policy["style-src"] == "'self'", what
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", what
        assert policy["connect-src"] == "'self' ws://testserver", what
        assert "unsafe" not in r["Content-Security-Policy"], what


def test_connect_src_names_the_secure_websocket_origin_over_https(client, db):
    r = client.get("/login/", secure=True, HTTP_HOST="localhost:8443")
    assert _policy(r)["connect-src"] == "'self' wss://localhost:8443"


def test_the_pages_have_nothing_inline_for_the_policy_to_refuse(signed_in, client, db):
    user_client, job = signed_in
    job.log("a line with <script>alert(1)</script> in it")
    pages = {
        "sign-in page": client.get("/login/"),
        "dashboard": user_client.get("/"),
        "hosts table": user_client.get("/hosts/table/"),
        "job page": user_client.get(f"/jobs/{job.pk}/"),
        "api docs": client.get("/api/docs/"),
    }
    for what, r in pages.items():
        assert r.status_code == 200, what
        for pattern, name in INLINE:
            found = pattern.search(r.text)
            assert found is None, f"{what} has {name}: {found and found.group(0)}"


def test_the_csrf_cookie_is_httponly_and_the_page_carries_the_token(db):
    client = Client(enforce_csrf_checks=True)
    r = client.get("/login/")
    assert client.cookies["csrftoken"]["httponly"] is True
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text)
    hx = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'>", r.text)
    assert meta and hx, "base.html carries the token for scripts and htmx"


def test_a_script_post_with_the_pages_token_passes_csrf_and_one_without_does_not(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    page = client.get("/")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)[1]
    assert client.post("/logout/").status_code == 403
    assert client.post("/logout/", HTTP_X_CSRFTOKEN=token).status_code == 302
    assert client.get("/").status_code == 302, "signed out"


def test_the_api_docs_use_only_this_sites_files(client, db):
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert not re.search(r"https?://", page.text), "no absolute URL in the docs page"
    assert not re.search(r"\b(src|href)=\"//", page.text), "no scheme-relative URL either"
    assert not re.search(r"https?://", script.text), "nor in its start-up script"
    assets = re.findall(r'(?:src|href)="/static/([^"?]+)"', page.text)
    assert {
        "vendor/swagger-ui/swagger-ui.css",
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "vendor/swagger-ui/swagger-ui-standalone-preset.js",
        "vendor/swagger-ui/favicon-32x32.png",
        "wharf/api-docs.css",
    } <= set(assets)
    missing = [a for a in assets if not finders.find(a)]
    assert missing == [], f"run scripts/setup.sh to copy them from node_modules: {missing}"

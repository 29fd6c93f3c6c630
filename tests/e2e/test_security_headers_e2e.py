"""The real server's answers carry the CSP, set the CSRF cookie HttpOnly and serve the API
docs' Swagger UI from its own static files (the browser side is in test_dashboard_browser)."""

from __future__ import annotations

import re


def test_pages_and_api_docs_carry_the_policy_from_the_real_server(stack):
    host = stack.web_url.removeprefix("http://")
    with stack.session() as client, stack.api() as api:
        answers = {
            "/login/": client.get("/login/"),
            "/api/docs/": client.get("/api/docs/"),
            "/api/docs/?script=": client.get("/api/docs/?script="),
            "/api/v1/hosts/": api.get("/api/v1/hosts/"),
        }
    for url, r in answers.items():
        assert r.status_code == 200, url
        policy = r.headers["content-security-policy"].split("; ")
        assert {"default-src 'self'", "script-src 'self'", "style-src 'self'"} <= set(policy), url
        assert f"connect-src 'self' ws://{host}" in policy, url
        assert not any("unsafe" in directive for directive in policy), url
        assert r.headers["x-content-type-options"] == "nosniff", url
    set_cookie = answers["/login/"].headers["set-cookie"]
    assert "csrftoken=" in set_cookie and "HttpOnly" in set_cookie


def test_the_docs_assets_come_from_the_site_itself(stack):
    with stack.session() as client:
        page = client.get("/api/docs/").text
        assert not re.search(r"https?://|\b(?:src|href)=\"//", page)
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
        assert any("swagger-ui-bundle.js" in a for a in assets), assets
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and r.content, asset

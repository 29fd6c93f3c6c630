"""The images, volumes, hosts and profile pages in a real browser, against the real stack and
worker: pull an image from a registry and watch each layer's progress live (the registry holds
the layer half-sent, so the page is seen mid-pull), see it appear in the list without a reload,
read its history; create a volume and browse its files, a planted link to / shown as a link
and never followed; make an API token that works once shown. Then the same pages at a phone's
width (390 px): nothing wider than the screen, every field labelled. All within the CSP;
screenshots kept (var/e2e-screenshots) for a look, and on failure."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import uuid
from pathlib import Path

import httpx
from e2e_stack import REPO, wait_for
from test_containers_browser import _text, _wait_text
from test_dashboard_browser import csp_violations

sys.path.insert(0, str(REPO / "tests" / "integration" / "images"))
from image_registries import FakeRegistry  # noqa: E402


def _layer(size: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("e2e.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return gzip.compress(buf.getvalue(), compresslevel=1)


def _sign_in(stack, browser, path: str) -> None:
    browser.sign_in(stack.web_url, path, "admin", stack.password)


def _choose_host(browser, host: str) -> None:
    browser.script(f"document.getElementById('id_host').value = {json.dumps(host)}")


def test_pull_with_live_layers_history_volume_files_and_a_token(stack, host_env, browser, shots):
    layer = _layer(2 * 1024 * 1024)
    registry = FakeRegistry.for_layers(
        [layer],
        config_extra={
            "history": [{"created": "2024-05-01T00:00:00Z", "created_by": "ADD e2e.bin /"}]
        },
    )
    digest = next(d for d, b in registry.blobs.items() if b == layer)
    registry.faults[digest] = "hold"  # half the layer, the rest once released
    reference = f"{registry.host}/e2e/app-{uuid.uuid4().hex[:6]}:1"
    try:
        _sign_in(stack, browser, "/images/")
        browser.type("#id_reference", reference)
        _choose_host(browser, stack.host_name)
        browser.click("#pull-submit")
        wait_for(lambda: "/jobs/" in browser.url(), 20, "the pull's job page")
        short = digest.removeprefix("sha256:")[:12]
        item = f'#layers li[data-layer="{short}"]'
        _wait_text(browser, item, "Downloading", 60)  # mid-pull, live
        browser.screenshot(shots / "pull-in-progress.png")
        registry.release.set()
        browser.wait_text("#job-state", "succeeded", timeout=90)
        assert "complete" in _text(browser, item).lower()
    finally:
        registry.release.set()
        registry.close()

    # the list learns of it from the inventory socket
    name = reference.split("/", 1)[1]
    browser.get(stack.web_url + f"/images/?q={name.split(':')[0]}")
    row = f'tr.image[data-name="{reference}"]'
    wait_for(
        lambda: browser.script("return document.body.dataset.inventoryLive") == "live",
        20,
        "the list to follow the inventory websocket",
    )
    _wait_text(browser, row, reference, 60)
    browser.click(f"{row} a")
    browser.click("#history-show")
    _wait_text(browser, "#history-table", "ADD e2e.bin /", 60)

    # a volume, files planted in it as a container would, browsed read-only
    volume = f"vol-{uuid.uuid4().hex[:6]}"
    browser.get(stack.web_url + "/volumes/")
    browser.type("#id_name", volume)
    _choose_host(browser, stack.host_name)
    browser.click("#create-submit")
    browser.wait_text("#job-state", "succeeded", timeout=60)
    data = Path(host_env["WHARF_ROOT"]) / "volumes" / volume / "_data"
    (data / "sub").mkdir()
    (data / "sub" / "inner.txt").write_text("hi\n")
    (data / "escape").symlink_to("/")
    browser.get(stack.web_url + f"/volumes/?q={volume}")
    _wait_text(browser, f'tr.volume[data-name="{volume}"]', volume, 60)
    browser.click(f'tr.volume[data-name="{volume}"] a')
    browser.click("#files-show")
    _wait_text(browser, "#files-table", "escape → /", 60)
    assert "etc" not in {
        n
        for n in browser.script(
            "return [...document.querySelectorAll('tr.file')].map(r => r.dataset.name)"
        )
    }
    browser.click('tr.file[data-name="sub"] button')
    _wait_text(browser, "#files-path", "/sub", 60)
    _wait_text(browser, "#files-table", "inner.txt", 10)

    # a token, shown once, that the API takes
    browser.get(stack.web_url + "/profile/")
    browser.type("#id_name", "e2e")
    browser.click("#token-submit")
    token = wait_for(
        lambda: browser.script(
            "const e = document.getElementById('token-text'); return e && e.value"
        ),
        20,
        "the new token",
    )
    r = httpx.get(stack.web_url + "/api/v1/hosts/", headers={"Authorization": f"Token {token}"})
    assert r.status_code == 200 and stack.host_name in r.text
    assert csp_violations(browser) == [], "the pages run within the CSP"


UNLABELLED = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
  .map(e => e.outerHTML.slice(0, 80))
"""


def test_the_pages_fit_a_phone_and_label_every_field(stack, host_env, browser, shots):
    _sign_in(stack, browser, "/images/")
    browser.resize(390, 844)
    width = browser.script("return window.innerWidth")
    assert width <= 400, width
    for path in (
        "/",
        "/containers/",
        "/images/",
        "/images/build/",
        "/volumes/",
        "/networks/",
        "/hosts/",
        "/jobs/",
        "/registries/",
        "/profile/",
    ):
        browser.get(stack.web_url + path)
        browser.find("main")
        name = path.strip("/").replace("/", "-") or "dashboard"
        browser.screenshot(shots / f"phone-{name}.png")
        wide = browser.script("return document.documentElement.scrollWidth")
        assert wide <= width, f"{path} is {wide} px wide on a {width} px screen"
        assert browser.script(UNLABELLED) == [], f"{path} has a field without a label"
    with stack.api() as api:  # a registry's page, with its change form
        r = api.post(
            "/api/v1/registries/",
            json={"name": f"phone-{uuid.uuid4().hex[:6]}", "host": "phone.example", "team": None},
        )
        assert r.status_code == 201, r.text
        try:
            browser.get(stack.web_url + f"/registries/{r.json()['id']}/")
            browser.find("#registry-form")
            wide = browser.script("return document.documentElement.scrollWidth")
            assert wide <= width, f"a registry's page is {wide} px wide on a {width} px screen"
            assert browser.script(UNLABELLED) == [], "a registry's page has a field without a label"
        finally:
            api.delete(f"/api/v1/registries/{r.json()['id']}/")
    browser.get(stack.web_url + f"/hosts/{stack.host_name}/")
    assert browser.find("#host-cordon")  # a fleet admin's buttons
    assert csp_violations(browser) == []

"""The image build and push forms in a real browser, against the real stack and worker: a
pasted Dockerfile is built while its steps stream onto the job page, the image shows in the
list, and it is pushed to Debian's docker-registry configured through the API. A context
that is no archive, or one larger than the site takes, is a field error and starts no job."""

from __future__ import annotations

import json
import sys
import uuid

import httpx
import pytest
from e2e_stack import REPO, wait_for
from test_containers_browser import _text, _wait_text
from test_dashboard_browser import csp_violations
from test_inventory_browser import _choose_host, _sign_in

sys.path.insert(0, str(REPO / "tests" / "integration" / "images"))
from image_registries import RealRegistry  # noqa: E402

DOCKERFILE = "FROM busybox\nRUN echo built > /f && sleep 3\n"


@pytest.fixture
def registry(tmp_path):
    """An open docker-registry on 127.0.0.1, known to the site as a registry of the admin's."""
    workdir = tmp_path / "registry"
    workdir.mkdir()
    reg = RealRegistry(workdir)
    yield reg
    reg.stop()


def _jobs(stack) -> int:
    with stack.api() as api:
        return api.get("/api/v1/jobs/").json()["count"]


def test_build_from_a_pasted_dockerfile_then_push_it(stack, host_env, registry, browser, shots):
    name = f"e2e/built-{uuid.uuid4().hex[:6]}"
    with stack.api() as api:
        r = api.post(
            "/api/v1/registries/", json={"name": name.replace("/", "-"), "host": registry.host}
        )
        assert r.status_code == 201, r.text
        reg_id = r.json()["id"]
    try:
        _sign_in(stack, browser, "/images/build/")
        browser.type("#id_dockerfile", DOCKERFILE)
        browser.type("#id_tag", f"{name}:1")
        _choose_host(browser, stack.host_name)
        browser.click("#build-submit")
        wait_for(lambda: "/jobs/" in browser.url(), 20, "the build's job page")
        # the steps stream in while the job runs (the RUN step sleeps 3 s)
        running = wait_for(
            lambda: (
                "Step 2/2 : RUN echo built" in (out := _text(browser, "#job-output"))
                and _text(browser, "#job-state") == "running"
                and out
            ),
            60,
            "the RUN step on the page while the build runs",
        )
        assert "Step 1/2 : FROM busybox" in running
        browser.screenshot(shots / "build-in-progress.png")
        browser.wait_text("#job-state", "succeeded", timeout=90)

        browser.get(stack.web_url + f"/images/?q={name}")
        row = f'tr.image[data-name="{name}:1"]'
        _wait_text(browser, row, name, 60)
        browser.click(f"{row} a")
        browser.find("#push-form")
        browser.type("#id_push_tag", f"{name}:1")
        browser.script(f"document.getElementById('id_registry').value = {json.dumps(str(reg_id))}")
        browser.click("#push-submit")
        wait_for(lambda: "/jobs/" in browser.url(), 20, "the push's job page")
        browser.wait_text("#job-state", "succeeded", timeout=90)
        tags = httpx.get(f"http://{registry.host}/v2/{name}/tags/list", timeout=10).json()
        assert tags.get("tags") == ["1"], tags
        assert csp_violations(browser) == [], "the build and push pages run within the CSP"
    finally:
        with stack.api() as api:
            api.delete(f"/api/v1/registries/{reg_id}/")


def test_a_context_that_is_no_archive_or_too_large_is_a_field_error(
    stack, host_env, browser, shots, tmp_path
):
    bad = tmp_path / "context.tar"
    bad.write_text("this is not a tar archive\n" * 100)
    _sign_in(stack, browser, "/images/build/")
    jobs = _jobs(stack)
    browser.type("#id_context", str(bad))
    _choose_host(browser, stack.host_name)
    browser.click("#build-submit")
    error = _wait_text(browser, "#error-context", "not a tar archive", 20)
    assert "/images/build/" in browser.url()
    assert (
        browser.script("return document.getElementById('id_context').getAttribute('aria-invalid')")
        == "true"
    )
    assert _jobs(stack) == jobs, f"a job was queued for a bad context ({error})"

    # a web process of the same site that takes uploads of 64 KiB at most
    url = stack.start_web("web-small-uploads", WHARF_UPLOAD_MAX_BYTES=str(64 * 1024))
    large = tmp_path / "large.tar"
    large.write_bytes(b"\0" * (256 * 1024))  # an empty tar archive, four times the limit
    try:
        browser.get(url + "/images/build/")  # signed in already: cookies are per host, not port
        browser.type("#id_context", str(large))
        _choose_host(browser, stack.host_name)
        browser.click("#build-submit")
        _wait_text(browser, "#error-context", "larger than 65536 bytes", 20)
    finally:
        stack.procs.pop("web-small-uploads").terminate()
    assert _jobs(stack) == jobs, "a job was queued for a context over the limit"
    assert list((stack.base / "uploads").glob("part-*")) == [], "the refused upload is gone"
    assert csp_violations(browser) == []

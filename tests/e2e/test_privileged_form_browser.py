"""A team operator who edits the run form in a real browser (hidden inputs added in the page,
a field's value changed behind the form's back) cannot run a privileged container: each forged
field is a field error on the page, no job is queued, no container exists on the host; the
same form, unforged, runs its container (the refusals are the forgery's, not the person's)."""

from __future__ import annotations

import json
import uuid

from e2e_stack import wait_for
from test_containers_browser import _text

# what each forgery adds to the form, and what the page must say of it
FORGERIES = {
    "privileged": ({"privileged": "on"}, "privileged is for fleet admins only"),
    "host network": ({"network": "host"}, "shares the host's or another container's stack"),
    "bind mount": ({"volumes": "/:/host"}, "mounts a host path"),
    "capability": ({"cap_add": "SYS_ADMIN"}, "cap_add is for fleet admins only"),
    "device": ({"devices": "/dev/sda:/dev/sda"}, "devices is for fleet admins only"),
}

# set FIELDS on the run form: a field it has gets the value, one it lacks a hidden input
FORGE = """
const form = document.getElementById('run-form');
for (const [name, value] of Object.entries(arguments[0])) {
  let field = form.elements[name];
  if (!field) {
    field = document.createElement('input');
    field.type = 'hidden';
    field.name = name;
    form.appendChild(field);
  }
  field.value = value;
}
"""


def _fill(browser, stack, name: str, forged: dict[str, str]) -> None:
    browser.find("#run-form")
    fields = {
        "image": "busybox",
        "name": name,
        "command": "sleep 300",
        "host": stack.host_name,
        **forged,
    }
    browser._call("POST", browser._s("/execute/sync"), {"script": FORGE, "args": [fields]})
    browser.click("#run-submit")


def test_an_operator_cannot_run_a_privileged_container_by_editing_the_form(
    stack, host_rt, browser, shots
):
    user = f"op-{uuid.uuid4().hex[:6]}"
    stack.add_user(user, "pw-" + user)  # an operator of a team of its own
    stack.manage(
        "shell",
        "-c",
        "from webapp.accounts.models import Team; from webapp.fleet.models import Host, HostGrant; "
        f"HostGrant.objects.create(team=Team.objects.get(slug={user!r}), "
        f"host=Host.objects.get(name={stack.host_name!r}))",
    )
    browser.sign_in(stack.web_url, "/containers/new/", user, "pw-" + user)
    assert browser.script(
        f"return [...document.getElementById('id_host').options].some(o => o.value === {json.dumps(stack.host_name)})"
    ), "the operator's team may run on the stack's host"

    names = []
    cases = [*FORGERIES.items(), ("all at once", _all_at_once())]
    for what, (forged, said) in cases:
        name = f"forged-{uuid.uuid4().hex[:6]}"
        names.append(name)
        browser.get(stack.web_url + "/containers/new/")  # a fresh form: no earlier forgery in it
        _fill(browser, stack, name, forged)
        wait_for(lambda: "/jobs/" in browser.url() or _text(browser, "#form-errors"), 20, what)
        assert "/containers/new/" in browser.url(), f"{what}: the form was taken ({browser.url()})"
        page = _text(browser, "main")
        assert said in page, f"{what}: no field error saying {said!r}: {page[:1500]}"
        browser.screenshot(shots / f"forged-{what.replace(' ', '-')}.png")

    with stack.api() as api:
        jobs = api.get("/api/v1/jobs/?limit=500").text
        containers = api.get("/api/v1/containers/?limit=500").text
    for name in names:
        assert name not in jobs, f"a job was queued for {name}"
        assert name not in containers, f"the site records a container {name}"
    on_host = {c.name for c in host_rt.containers.list(all=True)}
    assert not on_host & set(names), on_host & set(names)

    # the same person, the same form, nothing forged: it runs
    name = f"plain-{uuid.uuid4().hex[:6]}"
    browser.get(stack.web_url + "/containers/new/")
    _fill(browser, stack, name, {})
    wait_for(lambda: "/jobs/" in browser.url(), 20, "the unforged form's job page")
    browser.wait_text("#job-state", "succeeded", timeout=90)
    assert host_rt.containers.get(name).running
    with stack.api() as api:
        found = api.get(f"/api/v1/containers/?name={name}").json()["results"]
        assert [c["name"] for c in found] == [name], found
        stack.ended(api.delete(f"/api/v1/containers/{found[0]['id']}/?force=1").json()["job"], 60)


def _all_at_once() -> tuple[dict[str, str], str]:
    forged: dict[str, str] = {}
    for fields, _ in FORGERIES.values():
        forged.update(fields)
    return forged, "mounts a host path"  # the fields' own errors come first

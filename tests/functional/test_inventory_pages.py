"""The images, volumes and networks pages as a team member meets them: lists per host with
filters and search, each form's field errors in the API's words, each action a job started as
the API starts it, and a 404 for another team's object."""

from __future__ import annotations

import re

import pytest

from webapp.inventory.models import Container, Image, Network, Volume
from webapp.jobs.models import Job


@pytest.fixture
def no_broker(monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.jobs.services.enqueue", sent.append)
    return sent


@pytest.fixture
def fleet(make_host, make_team, make_user, grant, client):
    """Hosts h1, h2; team blue (ann, operator; granted both), team red (granted h1); images,
    volumes and networks of each."""
    h1, h2 = make_host("h1", cpus=2), make_host("h2", cpus=2)
    blue, red = make_team("blue"), make_team("red")
    grant(blue, h1, h2)
    grant(red, h1)
    made = {
        "busybox": Image.objects.create(
            host=h1, team=blue, engine_id="sha256:" + "b" * 64, tags=["busybox:latest"], size=4e6
        ),
        "alpine": Image.objects.create(
            host=h2, team=blue, engine_id="sha256:" + "a" * 64, tags=["alpine:3"], size=8e6
        ),
        "theirs-image": Image.objects.create(
            host=h1, team=red, engine_id="sha256:" + "c" * 64, tags=["secret:1"]
        ),
        "data": Volume.objects.create(host=h1, team=blue, engine_id="data", name="data"),
        "logs": Volume.objects.create(host=h2, team=blue, engine_id="logs", name="logs"),
        "theirs-volume": Volume.objects.create(host=h1, team=red, engine_id="rv", name="rv"),
        "front": Network.objects.create(
            host=h1,
            team=blue,
            engine_id="n" * 64,
            name="front",
            driver="bridge",
            subnet="10.9.0.0/24",
        ),
        "theirs-network": Network.objects.create(
            host=h1, team=red, engine_id="r" * 64, name="rednet", driver="bridge"
        ),
    }
    made["web"] = Container.objects.create(
        host=h1,
        team=blue,
        engine_id="w" * 64,
        name="web",
        image="busybox",
        state="running",
        networks=[{"name": "front", "ip_address": "10.9.0.2"}],
        mounts=[{"type": "volume", "name": "data", "destination": "/data", "rw": True}],
    )
    client.force_login(make_user("ann", team=blue))
    return made


def _names(page: str) -> set[str]:
    return set(re.findall(r'data-name="([^"]*)"', page))


@pytest.mark.parametrize(
    ("url", "query", "names"),
    [
        ("/images/", "", {"busybox:latest", "alpine:3"}),
        ("/images/", "host=h2", {"alpine:3"}),
        ("/images/", "q=BUSY", {"busybox:latest"}),
        ("/volumes/", "", {"data", "logs"}),
        ("/volumes/", "host=h1", {"data"}),
        ("/volumes/", "q=lo", {"logs"}),
        ("/networks/", "", {"front"}),
        ("/networks/", "q=nothing", set()),
    ],
)
def test_the_lists_show_my_teams_objects_filtered(fleet, client, url, query, names):
    assert _names(client.get(f"{url}?{query}").content.decode()) == names
    table = url + "table/"
    assert _names(client.get(f"{table}?{query}").content.decode()) == names


def test_empty_lists_say_what_to_do_next(db, client, make_user, make_team):
    client.force_login(make_user(team=make_team()))
    assert "pull one with the form below" in client.get("/images/").content.decode()
    assert "create one with the form below" in client.get("/volumes/").content.decode()
    assert "create one with the form below" in client.get("/networks/").content.decode()
    assert "ask a fleet admin to grant one" in client.get("/hosts/").content.decode()
    assert "No tokens yet" in client.get("/profile/").content.decode()


def test_the_lists_follow_the_inventory_socket(fleet, client):
    for url, kind in (("/images/", "image"), ("/volumes/", "volume"), ("/networks/", "network")):
        page = client.get(url).content.decode()
        assert f'data-inventory="{kind}"' in page and "wharf/inventory-live.js" in page


def test_pull_starts_a_job_on_the_chosen_host(fleet, client, no_broker):
    r = client.post("/images/pull/", {"reference": "busybox:1.36", "host": "h2"})
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.host.name, job.team.slug) == ("image.pull", "h2", "blue")
    assert job.params == {"reference": "busybox:1.36"}
    # the pull's page lists its layers from its output lines
    job.log("0123456789ab: Downloading 1.0 MB/2.0 MB")
    job.log("0123456789ab: Download complete 2.0 MB/2.0 MB")
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert (
        '<li data-layer="0123456789ab"><code>0123456789ab</code> <span class="status">Download complete'
        in page
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reference": "Not An Image!", "host": "h1"}, "reference"),
        ({"reference": "", "host": "h1"}, "reference"),
        ({"reference": "busybox", "host": "nowhere"}, "host"),
        ({"reference": "busybox"}, "host"),
        ({"reference": "busybox", "host": "h1", "team": "red"}, "team"),
    ],
)
def test_the_pull_form_shows_each_error_by_its_field(fleet, client, no_broker, data, field):
    r = client.post("/images/pull/", data)
    assert r.status_code == 400 and f'id="error-{field}"' in r.content.decode()
    assert not Job.objects.exists()


def test_an_image_page_tags_and_removes(fleet, client, no_broker):
    image = fleet["busybox"]
    page = client.get(f"/images/{image.pk}/").content.decode()
    assert "busybox:latest" in page and 'id="tag-form"' in page
    r = client.post(f"/images/{image.pk}/tag/", {"target": "mine:1"})
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == "image.tag" and job.params == {"image": image.engine_id, "target": "mine:1"}
    r = client.post(f"/images/{image.pk}/tag/", {"target": "Bad Tag"})
    assert r.status_code == 400 and 'id="error-target"' in r.content.decode()
    r = client.post(f"/images/{image.pk}/remove/", {"force": "1"})
    job = Job.objects.latest("pk")
    assert job.kind == "image.remove" and job.params["force"] is True


def test_volumes_are_created_and_removed_by_jobs(fleet, client, no_broker):
    r = client.post("/volumes/new/", {"name": "cache", "host": "h1"})
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/" and job.kind == "volume.create"
    assert job.params["name"] == "cache"
    r = client.post("/volumes/new/", {"name": "bad name!", "host": "h1"})
    assert r.status_code == 400 and 'id="error-name"' in r.content.decode()
    page = client.get(f"/volumes/{fleet['data'].pk}/").content.decode()
    assert 'id="volume-users"><a href="/containers/' in page and ">web<" in page
    client.post(f"/volumes/{fleet['data'].pk}/remove/")
    assert Job.objects.latest("pk").params == {"name": "data", "force": False}


def test_networks_are_created_listed_with_their_containers_and_removed(fleet, client, no_broker):
    r = client.post(
        "/networks/new/", {"name": "back", "subnet": "10.7.0.0/24", "internal": "1", "host": "h2"}
    )
    job = Job.objects.get()
    assert r.status_code == 302 and job.kind == "network.create"
    assert job.params["internal"] is True and job.params["subnet"] == "10.7.0.0/24"
    for data, field in (
        ({"name": "bridge", "host": "h1"}, "name"),
        ({"name": "ok", "subnet": "ten/8", "host": "h1"}, "subnet"),
    ):
        r = client.post("/networks/new/", data)
        assert r.status_code == 400 and f'id="error-{field}"' in r.content.decode()
    page = client.get(f"/networks/{fleet['front'].pk}/").content.decode()
    assert 'data-name="web"' in page and "10.9.0.2" in page
    client.post(f"/networks/{fleet['front'].pk}/remove/")
    assert Job.objects.latest("pk").params == {"network": "front"}


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("theirs-image", ["/images/{}/", "/images/{}/tag/", "/images/{}/remove/"]),
        ("theirs-volume", ["/volumes/{}/", "/volumes/{}/remove/"]),
        ("theirs-network", ["/networks/{}/", "/networks/{}/remove/"]),
    ],
)
def test_another_teams_objects_are_404(fleet, client, no_broker, name, pages):
    pk = fleet[name].pk
    for page in pages:
        url = page.format(pk)
        r = client.get(url) if page.count("/") == 3 else client.post(url, {"target": "x:1"})
        assert r.status_code == 404, url
    assert not Job.objects.exists()


def test_a_viewer_sees_no_forms_and_starts_nothing(fleet, client, make_user, no_broker):
    from webapp.accounts.models import Team

    client.force_login(make_user(team=Team.objects.get(slug="blue"), role="viewer"))
    assert 'id="pull-form"' not in client.get("/images/").content.decode()
    assert 'id="tag-form"' not in client.get(f"/images/{fleet['busybox'].pk}/").content.decode()
    r = client.post("/images/pull/", {"reference": "busybox", "host": "h1"})
    assert r.status_code == 400 and not Job.objects.exists()
    r = client.post(f"/volumes/{fleet['data'].pk}/remove/", follow=True)
    assert "flash error" in r.content.decode() and not Job.objects.exists()


def test_the_nav_reaches_every_page(fleet, client):
    page = client.get("/").content.decode()
    for url in (
        "/containers/",
        "/images/",
        "/volumes/",
        "/networks/",
        "/hosts/",
        "/jobs/",
        "/profile/",
    ):
        assert f'href="{url}"' in page
        assert client.get(url).status_code == 200, url


def test_the_lists_cost_the_same_queries_for_many_rows(
    fleet, client, django_assert_max_num_queries
):
    host, team = fleet["web"].host, fleet["web"].team
    Image.objects.bulk_create(
        Image(host=host, team=team, engine_id=f"sha256:{i:064}", tags=[f"i{i}:1"])
        for i in range(20)
    )
    Volume.objects.bulk_create(
        Volume(host=host, team=team, engine_id=f"v{i}", name=f"v{i}") for i in range(20)
    )
    for url in ("/images/", "/volumes/", "/networks/", "/hosts/", "/jobs/"):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


def test_an_images_history_is_read_by_a_job_and_shown_when_it_ends(fleet, client, no_broker):
    image = fleet["busybox"]
    r = client.post(f"/images/{image.pk}/history/")
    job = Job.objects.get()
    assert job.kind == "image.history" and job.params == {"image": image.engine_id}
    assert r["Location"] == f"/images/{image.pk}/?history={job.pk}#history"
    assert f"/images/{image.pk}/history/{job.pk}/" in client.get(r["Location"]).content.decode()
    waiting = client.get(f"/images/{image.pk}/history/{job.pk}/").content.decode()
    assert 'hx-trigger="load delay:1s"' in waiting and "history-table" not in waiting
    entry = {
        "Created": "2024-01-01T00:00:00Z",
        "CreatedBy": "/bin/sh -c #(nop) ADD file",
        "Size": 4096,
    }
    job.finish("succeeded", result={"history": [entry]})
    done = client.get(f"/images/{image.pk}/history/{job.pk}/").content.decode()
    assert 'id="history-table"' in done and "#(nop) ADD file" in done and "4.0\xa0KB" in done
    # the job's answer is shown for its own image only
    other = fleet["alpine"]
    assert client.get(f"/images/{other.pk}/history/{job.pk}/").status_code == 404


def test_a_volumes_files_are_listed_by_a_job_and_browsed_by_directory(fleet, client, no_broker):
    volume = fleet["data"]
    r = client.post(f"/volumes/{volume.pk}/files/", {"path": "/"})
    job = Job.objects.get()
    assert job.kind == "volume.files" and job.params == {"name": "data", "path": "/"}
    assert r["Location"].startswith(f"/volumes/{volume.pk}/?path=%2F&listing={job.pk}")
    job.finish(
        "succeeded",
        result={
            "path": "/",
            "total": 2,
            "truncated": False,
            "entries": [
                {
                    "name": "sub",
                    "type": "directory",
                    "size": 0,
                    "mode": "drwxr-xr-x",
                    "modified": "",
                },
                {
                    "name": "escape",
                    "type": "symlink",
                    "size": 1,
                    "mode": "lrwxrwxrwx",
                    "modified": "",
                    "target": "/",
                },
            ],
        },
    )
    page = client.get(f"/volumes/{volume.pk}/files/{job.pk}/").content.decode()
    assert (
        'data-name="sub"' in page and 'value="/sub"' in page and "escape → <code>/</code>" in page
    )
    client.post(f"/volumes/{volume.pk}/files/", {"path": "/sub"})
    assert Job.objects.latest("pk").params == {"name": "data", "path": "/sub"}
    r = client.post(f"/volumes/{volume.pk}/files/", {"path": "bad\x00path"}, follow=True)
    assert "flash error" in r.content.decode()
    theirs = fleet["theirs-volume"]
    assert client.post(f"/volumes/{theirs.pk}/files/", {"path": "/"}).status_code == 404
    assert client.get(f"/volumes/{theirs.pk}/files/{job.pk}/").status_code == 404
    assert client.get(f"/volumes/{fleet['logs'].pk}/files/{job.pk}/").status_code == 404


def test_no_page_route_can_be_mistaken_for_an_api_route():
    """A page's {% url %} must reach the page: DRF's router names (image-pull, job-cancel...)
    share one namespace with the pages', so a page route sharing a name must differ in its
    arguments' names, or reverse() may pick the API's."""
    from django.urls import URLPattern, get_resolver

    from webapp.urls import urlpatterns

    resolver = get_resolver()
    for pattern in urlpatterns:
        if not (isinstance(pattern, URLPattern) and pattern.name):
            continue
        if str(pattern.pattern).startswith("api/"):
            continue  # the schema and its docs: API routes themselves
        page_args = set(pattern.pattern.converters)
        for possibilities, *_ in resolver.reverse_dict.getlist(pattern.name):
            for text, args in possibilities:
                if text.startswith("api/"):
                    assert set(args) - {"format"} != page_args, (pattern.name, text)


def test_an_image_is_pushed_to_a_configured_registry(fleet, client, no_broker):
    from webapp.registries.models import Registry

    registry = Registry(team=fleet["busybox"].team, name="ours", host="reg.example:5000")
    registry.save()
    image = fleet["busybox"]
    assert "ours (reg.example:5000)" in client.get(f"/images/{image.pk}/").content.decode()
    r = client.post(f"/images/{image.pk}/push/", {"tag": "team/app:1", "registry": registry.pk})
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/" and job.kind == "image.push"
    assert job.params["target"] == "reg.example:5000/team/app:1"
    assert job.params["registry"] == registry.pk
    r = client.post(
        f"/images/{image.pk}/push/", {"tag": "other.example/app:1", "registry": registry.pk}
    )
    assert r.status_code == 400 and 'id="error-tag"' in r.content.decode()
    r = client.post(f"/images/{image.pk}/push/", {"tag": "Bad Tag"})
    assert r.status_code == 400 and 'id="error-tag"' in r.content.decode()
    theirs = fleet["theirs-image"]
    assert client.post(f"/images/{theirs.pk}/push/", {"tag": "x:1"}).status_code == 404
    assert Job.objects.count() == 1


def test_a_pasted_dockerfile_or_an_uploaded_context_is_built(
    fleet, client, no_broker, settings, tmp_path
):
    import io
    import tarfile

    settings.WHARF_UPLOAD_DIR = str(tmp_path)
    assert 'id="build-form"' in client.get("/images/build/").content.decode()
    r = client.post(
        "/images/build/",
        {"dockerfile": "FROM busybox\nRUN echo hi\n", "tag": "app:1\napp:latest", "host": "h1"},
    )
    job = Job.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/" and job.kind == "image.build"
    assert job.params["tags"] == ["app:1", "app:latest"] and job.params["upload"] is False
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"FROM busybox\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    buf.name = "context.tar"
    r = client.post("/images/build/", {"context": buf, "host": "h1"})
    job = Job.objects.latest("pk")
    assert r.status_code == 302 and job.params["upload"] is True
    assert (tmp_path / f"job-{job.pk}").exists()
    for data, field in (
        ({"host": "h1"}, "dockerfile"),
        ({"dockerfile": "FROM x", "host": "h1", "tag": "Bad Tag"}, "tag"),
    ):
        r = client.post("/images/build/", data)
        assert r.status_code == 400 and f'id="error-{field}"' in r.content.decode()
    settings.WHARF_UPLOAD_MAX_BYTES = 10
    buf.seek(0)
    r = client.post("/images/build/", {"context": buf, "host": "h1"})
    assert r.status_code == 413 and 'id="error-context"' in r.content.decode()
    assert Job.objects.count() == 2 and sorted(p.name for p in tmp_path.iterdir()) == [
        f"job-{job.pk}"
    ]


def test_a_context_over_the_limit_is_the_fields_error_with_csrf_checked(
    fleet, no_broker, settings, tmp_path
):
    """The CSRF check reads the body first: past the limit that must still be the form's 413."""
    import re

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.WHARF_UPLOAD_DIR = str(tmp_path)
    settings.WHARF_UPLOAD_MAX_BYTES = 1024
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.get(username="ann"))
    page = browser.get("/images/build/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    r = browser.post(
        "/images/build/",
        {
            "csrfmiddlewaretoken": token,
            "host": "h1",
            "context": SimpleUploadedFile("ctx.tar", b"\0" * 4096),
        },
    )
    assert r.status_code == 413 and 'id="error-context"' in r.content.decode()
    assert not Job.objects.exists() and list(tmp_path.iterdir()) == []


def test_prune_is_for_fleet_admins(fleet, client, no_broker, make_user):
    assert 'id="prune-form"' not in client.get("/images/").content.decode()
    r = client.post("/images/prune/", {"host": "h1"}, follow=True)
    assert "fleet admins only" in r.content.decode() and not Job.objects.exists()
    client.force_login(make_user("root", staff=True))
    assert 'id="prune-form"' in client.get("/volumes/").content.decode()
    for kind, job_kind, params in (
        ("images", "image.prune", {"all": True}),
        ("volumes", "volume.prune", {"all": True}),
        ("networks", "network.prune", {}),
    ):
        r = client.post(f"/{kind}/prune/", {"host": "h2", "all": "1"})
        job = Job.objects.latest("pk")
        assert r["Location"] == f"/jobs/{job.pk}/" and job.kind == job_kind
        assert job.params == params and job.host.name == "h2"
    assert client.post("/containers2/prune/", {"host": "h1"}).status_code == 404

"""The job API's reading side: stored output by cursor, list filters and ordering, cancel rights,
and a schema that says what each answer is."""

from __future__ import annotations

import pytest

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job


@pytest.fixture
def blue(make_team, make_user, make_host, api_client):
    team = make_team("blue")
    user = make_user("alice", team=team)
    return team, make_host("h1"), api_client(user)


def _job(team, host, **fields) -> Job:
    return Job.objects.create(kind="host.check", host=host, team=team, **fields)


def test_output_pages_by_seq_with_after_limit_and_next(blue):
    team, host, client = blue
    job = _job(team, host)
    job.append_lines([{"seq": i, "stream": "stdout", "text": f"l{i}"} for i in range(1, 8)])
    first = client.get(f"/api/v1/jobs/{job.pk}/output/?limit=3").json()
    assert [line["seq"] for line in first["results"]] == [1, 2, 3]
    assert first["next"].endswith(f"/api/v1/jobs/{job.pk}/output/?after=3&limit=3")
    second = client.get(first["next"]).json()
    assert [line["seq"] for line in second["results"]] == [4, 5, 6]
    last = client.get(second["next"]).json()
    assert [line["text"] for line in last["results"]] == ["l7"] and last["next"] is None
    everything = client.get(f"/api/v1/jobs/{job.pk}/output/").json()
    assert len(everything["results"]) == 7 and everything["next"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=5001", "limit=ten", "after=-1", "after=1e3"])
def test_a_bad_output_cursor_is_a_field_error(blue, query):
    team, host, client = blue
    job = _job(team, host)
    r = client.get(f"/api/v1/jobs/{job.pk}/output/?{query}")
    assert r.status_code == 400 and query.split("=")[0] in r.json()


def test_the_list_filters_by_state_kind_host_and_search(blue, make_host, make_user):
    team, host, client = blue
    other_host = make_host("h2")
    bob = make_user("bob-the-requester")
    done = _job(team, host, state=JobState.SUCCEEDED)
    failed = _job(team, other_host, state=JobState.FAILED, error="disk full", requester=bob)
    queued = _job(team, host)

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/v1/jobs/?{query}")
        assert r.status_code == 200, r.content
        return [j["id"] for j in r.json()["results"]]

    assert ids("state=failed") == [failed.pk]
    assert ids("host=h1&ordering=id") == [done.pk, queued.pk]
    assert ids("kind=host.check&ordering=-id") == [queued.pk, failed.pk, done.pk]
    assert ids("search=disk") == ids("search=bob-the") == ids("search=h2") == [failed.pk]
    assert done.pk in ids(f"search={done.pk}")  # an id matches too
    assert ids("ordering=state") == [failed.pk, queued.pk, done.pk]
    assert ids("state=") == ids("")  # an empty value filters nothing


@pytest.mark.parametrize(
    "query,field",
    [("state=sleeping", "state"), ("ordering=password", "ordering"), ("kind=rm", "kind")],
)
def test_a_bad_filter_value_is_a_400_field_error(blue, query, field):
    _team, _host, client = blue
    r = client.get(f"/api/v1/jobs/?{query}")
    assert r.status_code == 400 and list(r.json()) == [field]


def test_filters_do_not_apply_to_one_job(blue):
    team, host, client = blue
    job = _job(team, host)
    assert client.get(f"/api/v1/jobs/{job.pk}/?state=bogus").status_code == 200


def test_a_viewer_sees_but_may_not_cancel_and_another_team_gets_404(
    make_team, make_user, make_host, api_client, monkeypatch
):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: True)
    team = make_team("blue")
    job = _job(team, make_host())
    viewer = api_client(make_user(team=team, role="viewer"))
    assert viewer.get(f"/api/v1/jobs/{job.pk}/").status_code == 200
    assert viewer.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 403
    stranger = api_client(make_user(team=make_team("red")))
    assert stranger.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 404
    assert stranger.post("/api/v1/jobs/999999/cancel/").status_code == 404
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED


def test_the_schema_describes_every_answer(make_user, api_client):
    paths = api_client(make_user()).get("/api/schema/?format=json").json()["paths"]
    output = paths["/api/v1/jobs/{id}/output/"]["get"]
    assert sorted(output["responses"]) == ["200", "400", "401", "404"]
    page = output["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert page.endswith("/JobOutputPage")
    assert {p["name"] for p in output["parameters"]} == {"id", "after", "limit"}
    cancel = paths["/api/v1/jobs/{id}/cancel/"]["post"]
    assert sorted(cancel["responses"]) == ["202", "401", "403", "404", "409"]
    listing = paths["/api/v1/jobs/"]["get"]
    assert {"state", "kind", "host", "search", "ordering", "limit", "offset"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert sorted(listing["responses"]) == ["200", "400", "401"]
    assert sorted(paths["/api/v1/jobs/"]["post"]["responses"]) == ["201", "400", "401", "403"]
    assert sorted(paths["/api/v1/jobs/{id}/"]["get"]["responses"]) == ["200", "401", "404"]

"""Hostile input against the real API server: each is a 400 (413 for size) in the API's
error shape, naming what was wrong and where; none is a 500."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

HOSTILE_NUMBERS = ["1e5", "0x10", "9" * 5000, "99999999999999999999", "-1", " 7", "1_0", "٣"]


@pytest.fixture(scope="module")
def job_id(stack) -> int:
    return stack.add_job("only line")


def _nested(levels: int) -> list:
    value: list = [1]
    for _ in range(levels - 1):
        value = [value]
    return value


def _assert_field_error(r, field: str) -> str:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert list(body) == [field], body
    (message,) = body[field]
    assert f"query parameter '{field}' must be a whole number" in message
    assert "\n" not in message and len(message) < 200, "one short line, not the value echoed whole"
    return message


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_a_hostile_after_is_a_400_naming_the_parameter(stack, job_id, value):
    with stack.api() as api:
        r = api.get(f"/api/v1/jobs/{job_id}/output/", params={"after": value})
        _assert_field_error(r, "after")
        good = api.get(f"/api/v1/jobs/{job_id}/output/", params={"after": "0"})
    assert good.status_code == 200
    assert [line["text"] for line in good.json()["results"]] == ["only line"]


@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", ["1e5", "0x10", "9" * 5000])
def test_a_hostile_page_parameter_is_a_400_too(stack, param, value):
    with stack.api() as api:
        _assert_field_error(api.get("/api/v1/jobs/", params={param: value}), param)


def _post_job_body(stack, body: bytes):
    with stack.api() as api:
        return api.post("/api/v1/jobs/", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"kind": "host.check", "params": _nested(32)}).encode(),
    ],
    ids=["unclosed", "closed", "params-33-deep"],
)
def test_json_nested_too_deep_is_a_400(stack, body):
    r = _post_job_body(stack, body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.json() == {"detail": "JSON parse error - request body nests deeper than 32 levels"}


@pytest.mark.parametrize(
    ("literal", "said"),
    [("9" * 5000, "integer with 5000 digits"), ("1e999", "out of range"), ("NaN", "NaN")],
)
def test_numbers_json_cannot_carry_are_a_400(stack, literal, said):
    body = f'{{"kind": "host.check", "host": "{stack.host_name}", "params": {{"n": {literal}}}}}'
    r = _post_job_body(stack, body.encode())
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert said in r.json()["detail"]


def test_a_body_larger_than_the_upload_limit_is_a_413(stack):
    body = b'{"kind": "host.check", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    r = _post_job_body(stack, body)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body is larger than 2621440 bytes"}


def test_the_job_websocket_refuses_a_hostile_after(stack, job_id):
    url = stack.web_url.replace("http", "ws") + f"/ws/jobs/{job_id}/"
    auth = {"Authorization": f"Token {stack.token}"}
    for value in ("1e5", "9" * 5000):
        with connect(f"{url}?after={value}", origin=stack.web_url, additional_headers=auth) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd.code == 4400
    with connect(f"{url}?after=0", origin=stack.web_url, additional_headers=auth) as ws:
        assert json.loads(ws.recv(timeout=10))["text"] == "only line"

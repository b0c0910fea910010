"""Per-key rate limits: read and write buckets, headers on every answer, 429 with Retry-After,
workspace overrides."""

from __future__ import annotations

import time

import pytest

from app.db import write_session
from app.models import Workspace
from app.settings import reset_settings
from tests.integration.api.conftest import QUICK, Tenant, assert_problem, mint

LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                 "ratelimit", "ratelimit-policy")


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_READ_PER_MIN", "3")
    monkeypatch.setenv("RATE_LIMIT_WRITE_PER_MIN", "2")
    reset_settings()


def test_every_answer_carries_the_limit_headers(acme: Tenant) -> None:
    answers = [acme.get("/api/v1/workspaces"), acme.http.get("/api/v1/workflows"),
               acme.get("/api/v1/runs/run_nope"), acme.get("/api/v1/nowhere"),
               acme.post("/api/v1/workflows", json={"title": ""})]
    for response in answers:
        for name in LIMIT_HEADERS:
            assert name in response.headers, (response.status_code, name)
    first = answers[0]
    assert first.headers["x-ratelimit-limit"] == "600"
    assert first.headers["ratelimit-policy"] == '"read";q=600;w=60'
    assert first.headers["ratelimit"].startswith('"read";r=599;t=')
    assert int(first.headers["x-ratelimit-reset"]) >= int(time.time())
    assert answers[-1].headers["ratelimit-policy"] == '"write";q=120;w=60'


def test_over_the_read_limit_is_a_429_problem_with_retry_after(acme: Tenant,
                                                              low_limits: None) -> None:
    remaining = [acme.get("/api/v1/workspaces").headers["x-ratelimit-remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = acme.get("/api/v1/workspaces")
    body = assert_problem(limited, 429, "RATE_LIMITED")
    assert body["limit"] == 3 and body["bucket"] == "read"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"


def test_reads_and_writes_have_their_own_buckets(acme: Tenant, low_limits: None) -> None:
    for _ in range(3):
        acme.get("/api/v1/workspaces")
    assert_problem(acme.get("/api/v1/workspaces"), 429)
    created = acme.post("/api/v1/workflows", json={"title": "x", "definition": QUICK})
    assert created.status_code == 201
    assert created.headers["x-ratelimit-limit"] == "2"
    acme.post("/api/v1/workflows", json={"title": "y", "definition": QUICK})
    assert_problem(acme.post("/api/v1/workflows", json={"title": "z", "definition": QUICK}),
                   429)


def test_each_key_has_its_own_bucket(acme: Tenant, low_limits: None) -> None:
    other = mint(acme.workspace_id)
    for _ in range(4):
        acme.get("/api/v1/workspaces")
    assert acme.get("/api/v1/workspaces", key=other).status_code == 200


def test_a_workspace_override_replaces_the_default(acme: Tenant, low_limits: None) -> None:
    with write_session() as session:
        workspace = session.get(Workspace, acme.workspace_id)
        assert workspace is not None
        workspace.rate_limit_read_per_min = 5
        session.add(workspace)
        session.commit()
    response = acme.get("/api/v1/workspaces")
    assert response.headers["x-ratelimit-limit"] == "5"
    assert response.json()["data"][0]["rate_limit_read_per_min"] == 5


def test_requests_without_a_key_are_limited_by_address(acme: Tenant, low_limits: None) -> None:
    for _ in range(3):
        assert_problem(acme.http.get("/api/v1/workspaces"), 401)
    assert_problem(acme.http.get("/api/v1/workspaces"), 429)
    assert acme.get("/api/v1/workspaces").status_code == 200

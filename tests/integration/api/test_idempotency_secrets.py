"""Responses kept for Idempotency-Key replays are encrypted at rest (some carry secrets)."""

from __future__ import annotations

from sqlmodel import select

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import IdempotencyRecord
from app.services import idempotency


def test_stored_response_is_encrypted_and_replayed_verbatim(sqlite_db: str) -> None:
    from tests.support import World

    world = World.create()
    body = '{"secret": "whsec_c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=="}'
    with write_session() as session:
        claimed = idempotency.claim_key(session, workspace_id=world.workspace_id, key="k1",
                                        method="POST", path="/api/v1/webhooks",
                                        request_hash="h", now=utcnow())
    assert isinstance(claimed, idempotency.Claimed)
    with write_session() as session:
        idempotency.complete_key(session, record_id=claimed.record_id, status=201, body=body,
                                 headers={"content-type": "application/json"})
    with read_session() as session:
        stored = session.exec(select(IdempotencyRecord)).one()
    assert "whsec_" not in (stored.response_body or "")
    with write_session() as session:
        replay = idempotency.claim_key(session, workspace_id=world.workspace_id, key="k1",
                                       method="POST", path="/api/v1/webhooks", request_hash="h",
                                       now=utcnow())
    assert isinstance(replay, idempotency.Replay)
    assert replay.body == body and replay.status == 201

"""``Idempotency-Key`` on POSTs (Stripe's convention): the first answer is stored per key
and idempotency key; a repeat within 24 hours with the same request gets it again, a
repeat with a different request is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.api.auth import current_key
from app.api.errors import ApiError
from app.db import db_session, utcnow
from app.models import IdempotencyRecord

F = TypeVar("F", bound=Callable[..., Any])
WINDOW = timedelta(hours=24)
HEADER = "Idempotency-Key"


def request_hash() -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b"\0" + request.path.encode())
    h.update(b"\0" + request.get_data(cache=True))
    return h.hexdigest()


def idempotent(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        if not raw.strip() or len(raw) > 255 or not raw.isprintable() or not raw.isascii():
            raise ApiError(
                400, "bad_idempotency_key", "Idempotency-Key must be 1–255 printable ASCII characters.", field=HEADER
            )
        key = current_key()
        digest = request_hash()
        cutoff = utcnow() - WINDOW
        db_session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == key.id,
                IdempotencyRecord.key == raw,
                IdempotencyRecord.created_at < cutoff,
            )
        )
        record = db_session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == key.id, IdempotencyRecord.key == raw)
        )
        if record is not None:
            if record.request_hash != digest:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request.",
                    field=HEADER,
                )
            replay = Response(record.response_body, status=record.status_code, mimetype="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        db_session.commit()
        try:
            response = make_response(view(*args, **kwargs))
        except ApiError as exc:
            response = make_response(exc.body(), exc.status)
        if response.status_code in (401, 429) or response.status_code >= 500:
            return response
        db_session.rollback()  # the view has committed its work; nothing else rides along
        db_session.add(
            IdempotencyRecord(
                api_key_id=key.id,
                key=raw,
                request_hash=digest,
                status_code=response.status_code,
                response_body=response.get_data(as_text=True),
            )
        )
        try:
            db_session.commit()
        except IntegrityError:
            db_session.rollback()
            raise ApiError(
                409, "idempotency_conflict", "Another request with this Idempotency-Key is in progress.", field=HEADER
            ) from None
        return response

    return cast(F, wrapped)

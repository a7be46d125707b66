"""One message-push URL serves every feature: a verdict for a complaint photo reaches the photo."""

from __future__ import annotations

from datetime import timedelta

import httpx

from accounts.models import User
from config.settings import Settings
from core import clock
from photos.models import Moderation, Photo
from wechat.protocol import SecurityVerdict

from .conftest import deliver


async def test_a_complaint_photo_verdict_is_routed_to_the_photo(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await User.create(openid="uploader")
    keys = {
        "original_key": "private/o/x.jpg",
        "display_key": "public/d/x.jpg",
        "thumbnail_key": "public/t/x.jpg",
    }
    photo = await Photo.create(
        uploader=user, sha256="0" * 64, format="jpeg", width=10, height=10, byte_size=100,
        display_width=10, display_height=10, thumbnail_width=10, thumbnail_height=10,
        check_trace_id="trace-complaint-1", original_keep_until=clock.now() + timedelta(days=1), **keys,
    )  # fmt: skip
    api = httpx.AsyncClient(base_url=str(client.base_url) + "/api/v1")
    response = await deliver(api, settings, SecurityVerdict("risky", 20001, "trace-complaint-1"))
    await api.aclose()
    assert response.status_code == 200 and response.text == "success"
    await photo.refresh_from_db()
    assert photo.moderation is Moderation.REJECTED

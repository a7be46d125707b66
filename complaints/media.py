"""WeChat's asynchronous media check for the photos of a complaint. Every photo attached to a
complaint goes through it, whoever attached it (the resident filing or reopening, staff recording a
step): nobody but the uploader and the community's moderators sees a photo before its verdict."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.errors import DomainError
from photos import records
from photos.models import Photo
from wechat.protocol import MediaType, Scene, WeChatApi

log = logging.getLogger("wuye.complaints")


@dataclass(frozen=True, slots=True)
class PhotoCheck:
    """Who submits (WeChat wants the openid of a user of the mini-program) and the public URL from
    which WeChat fetches each photo (built by the HTTP layer from the configured public address)."""

    wechat: WeChatApi
    openid: str
    media_url: Callable[[Photo], str]

    async def submit(self, photos: Iterable[Photo]) -> None:
        for photo in photos:
            try:
                trace_id: str | None = await self.wechat.media_check_async(
                    openid=self.openid,
                    media_url=self.media_url(photo),
                    media_type=MediaType.IMAGE,
                    scene=Scene.FORUM,
                )
            except DomainError as exc:  # WeChat down or refusing: a person looks at it instead
                log.warning("media_check_async failed, holding photo %s: %s", photo.id, exc.error_code)
                trace_id = None
            await records.check_submitted(photo.id, trace_id)


async def hold_unchecked(photos: Iterable[Photo]) -> None:
    """Photos attached where no check can be asked for: held for a person, never shown unchecked."""
    for photo in photos:
        await records.check_submitted(photo.id, None)

"""Images and PDFs of a notice. Images go through the photo pipeline (metadata stripped, renditions)
and WeChat's asynchronous media check; PDFs are checked by their magic bytes and size and kept in
private storage, served only through the board's access checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tortoise.transactions import in_transaction

import photos
from audit import service as audit
from notices.errors import AttachmentInvalid, AttachmentNotFound, NoticeStateConflict
from notices.models import AttachmentKind, MediaVerdict, NoticeAttachment
from notices.rules import Status
from notices.scoping import Caller, Where, load, require_manager, stream_of
from photos.keys import PRIVATE_PREFIX, content_key
from wechat import MediaType, Scene, WeChatApi

PDF_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 9
ATTACHABLE = frozenset({Status.DRAFT, Status.HELD})


async def _writable(caller: Caller, where: Where, notice_id: int) -> int:
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    if notice.status not in ATTACHABLE:
        raise NoticeStateConflict("只有草稿或被暂缓的公告可以添加附件")
    if await NoticeAttachment.filter(notice_id=notice.id).count() >= MAX_ATTACHMENTS:
        raise AttachmentInvalid(f"每条公告最多 {MAX_ATTACHMENTS} 个附件", code="too_many_attachments")
    return notice.id


async def add_image(
    wechat: WeChatApi,
    storage: photos.PhotoStorage,
    caller: Caller,
    where: Where,
    notice_id: int,
    data: bytes,
    *,
    name: str,
    media_url_for: Callable[[str], str],
) -> NoticeAttachment:
    """Store the image, then ask WeChat to check the public rendition; its verdict comes by push."""
    notice_pk = await _writable(caller, where, notice_id)
    stored = await photos.store_photo(storage, data)
    trace_id = await wechat.media_check_async(
        openid=caller.openid,
        media_url=media_url_for(stored.display.key),
        media_type=int(MediaType.IMAGE),
        scene=int(Scene.FORUM),
    )
    async with in_transaction():
        attachment = await NoticeAttachment.create(
            notice_id=notice_pk,
            kind=AttachmentKind.IMAGE,
            name=name[:100],
            content_type=stored.display.content_type,
            byte_size=stored.display.byte_size,
            sha256=stored.sha256,
            key=stored.original.key,
            display_key=stored.display.key,
            thumbnail_key=stored.thumbnail.key,
            verdict=MediaVerdict.PENDING,
            trace_id=trace_id,
            uploaded_by_id=caller.user_id,
        )
        await audit.append(
            stream_of(where),
            "notice.image_added",
            actor=caller.actor,
            subject=f"notice:{notice_pk}",
            payload={"attachment": attachment.id, "sha256": stored.sha256, "trace_id": trace_id},
        )
    return attachment


async def add_pdf(
    storage: photos.PhotoStorage, caller: Caller, where: Where, notice_id: int, data: bytes, *, name: str
) -> NoticeAttachment:
    notice_pk = await _writable(caller, where, notice_id)
    if not data.startswith(b"%PDF-"):
        raise AttachmentInvalid("附件不是 PDF 文件", code="not_a_pdf")
    if len(data) > PDF_MAX_BYTES:
        raise AttachmentInvalid("PDF 文件不能超过 10 MB", code="pdf_too_large")
    digest = hashlib.sha256(data).hexdigest()
    key = content_key(PRIVATE_PREFIX, "notice-pdf", digest, "pdf")
    if not await storage.exists(key):
        await storage.put(key, data, "application/pdf")
    async with in_transaction():
        attachment = await NoticeAttachment.create(
            notice_id=notice_pk,
            kind=AttachmentKind.PDF,
            name=name[:100],
            content_type="application/pdf",
            byte_size=len(data),
            sha256=digest,
            key=key,
            uploaded_by_id=caller.user_id,
        )
        await audit.append(
            stream_of(where),
            "notice.pdf_added",
            actor=caller.actor,
            subject=f"notice:{notice_pk}",
            payload={"attachment": attachment.id, "sha256": digest, "bytes": len(data)},
        )
    return attachment


async def remove(
    storage: photos.PhotoStorage, caller: Caller, where: Where, notice_id: int, attachment_id: int
) -> None:
    """Take an attachment off a draft or held notice (a wrong file, a photo showing someone's
    details): the row goes with an audit entry, then the stored files no other attachment uses. A
    published notice keeps its attachments: what residents read is withdrawn or revised, never
    edited in place."""
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    if notice.status not in ATTACHABLE:
        raise NoticeStateConflict("只有草稿或被暂缓的公告可以删除附件")
    attachment = await NoticeAttachment.get_or_none(id=attachment_id, notice_id=notice.id)
    if attachment is None:
        raise AttachmentNotFound()
    async with in_transaction():
        if not await NoticeAttachment.filter(id=attachment.id).delete():
            raise AttachmentNotFound()  # removed meanwhile by another request
        await audit.append(
            stream_of(where),
            "notice.attachment_removed",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
            payload={"attachment": attachment.id, "kind": attachment.kind.value, "sha256": attachment.sha256},
        )
    # A PDF's file is the notices' own ("notice-pdf" keys), kept while another notice holds the same
    # bytes. An image's files are in the shared photo store, keyed by content, where a complaint or
    # any other record may hold the same picture: they stay, and the notice-media route serves only
    # renditions an attachment row still names (public_rendition).
    if (
        attachment.kind is AttachmentKind.PDF
        and not await NoticeAttachment.filter(key=attachment.key).exists()
    ):
        await storage.delete(attachment.key)


async def file_of(
    storage: photos.PhotoStorage, attachment: NoticeAttachment, *, thumbnail: bool = False
) -> tuple[bytes, str]:
    """The bytes a reader gets: the public rendition of an image (never the original), or the PDF."""
    if attachment.kind is AttachmentKind.IMAGE:
        key = attachment.thumbnail_key if thumbnail else attachment.display_key
    else:
        key = attachment.key
    data = await storage.get(key or "")
    if data is None:
        raise AttachmentInvalid("附件文件缺失", code="attachment_missing")
    return data, attachment.content_type


async def public_rendition(storage: photos.PhotoStorage, key: str) -> bytes | None:
    """A public rendition by its key, for WeChat's media checker to fetch; only keys of notice images."""
    if not photos.is_public(key) or not await NoticeAttachment.filter(display_key=key).exists():
        return None
    return await storage.get(key)

"""Photos of a service (what the resident sees in the catalogue), through the photos pipeline.

The provider's manager uploads each photo (POST /photos: checked, metadata stripped, display and
thumbnail renditions stored) and adds it here: a ServicePhoto row takes one of the service's
MAX_PHOTOS positions (unique per service, so two adds at once can never pass the bound) and the
photo is attached to that row's subject in the same transaction. WeChat's asynchronous media check
is asked for each photo after the commit; the residents of the compound see a photo only once it
passed, the provider's people see it at once (with its moderation state).

Removing a photo deletes its row: the photo, still attached to the row's subject, is then seen by
nobody but its uploader (photos.records.viewable)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.roles import compound_roles
from audit.service import Actor, append
from bookings.catalogue import service_of
from bookings.errors import BookingInvalid, ServiceConflict, ServicePhotoNotFound, TooManyServicePhotos
from bookings.models import Provider, Service, ServicePhoto
from bookings.providers import member_role, stream_of
from bookings.visibility import SEES_CATALOGUE
from complaints.media import PhotoCheck
from photos import records
from photos.access import Sight, register_viewer, subject
from photos.models import Moderation, Photo

SUBJECT_KIND = "service_photo"
MAX_PHOTOS = 9
ADD_ATTEMPTS = 4


def subject_of(row_id: int) -> str:
    return subject(SUBJECT_KIND, row_id)


async def _sight(user_id: int, row_id: int) -> Sight:
    """The provider's people moderate (see pending and held photos too); the people of the
    compound see the passed photos of an active service; nobody sees a removed one's."""
    row = await ServicePhoto.get_or_none(id=row_id).only("id", "service_id")
    if row is None:
        return Sight.NONE
    service = await Service.get(id=row.service_id).only("id", "provider_id", "compound_id", "active")
    provider = await Provider.get(id=service.provider_id)
    if await member_role(user_id, provider) is not None:
        return Sight.MODERATE
    if service.active and await compound_roles(user_id, service.compound_id) & SEES_CATALOGUE:
        return Sight.VIEW
    return Sight.NONE


register_viewer(SUBJECT_KIND, _sight)


async def add(
    actor: Actor,
    provider: Provider,
    service_id: int,
    photo_ids: Sequence[int],
    *,
    user_id: int,
    check: PhotoCheck,
) -> list[Photo]:
    """Add the uploader's unattached photos to the service, after those it has (all or nothing:
    TooManyServicePhotos past MAX_PHOTOS, PhotoNotAttachable for a photo not theirs to attach),
    then ask for their content check."""
    service = await service_of(provider, service_id)
    ids = list(dict.fromkeys(photo_ids))
    if not 1 <= len(ids) <= MAX_PHOTOS:
        raise BookingInvalid(f"每次添加 1 至 {MAX_PHOTOS} 张照片", details={"max": MAX_PHOTOS})
    for _ in range(ADD_ATTEMPTS):
        taken = set(await ServicePhoto.filter(service_id=service.id).values_list("position", flat=True))
        free = [p for p in range(MAX_PHOTOS) if p not in taken]
        if len(free) < len(ids):
            raise TooManyServicePhotos(details={"max": MAX_PHOTOS, "present": len(taken)})
        try:
            async with in_transaction() as conn:
                added: list[Photo] = []
                for position, photo_id in zip(free, ids, strict=False):
                    row = await ServicePhoto.create(
                        service_id=service.id, position=position, photo_id=photo_id, added_by_id=user_id,
                        using_db=conn,
                    )  # fmt: skip
                    added += await records.attach(
                        [photo_id], uploader_id=user_id, subject=subject_of(row.id), using_db=conn
                    )
                await append(
                    stream_of(provider.id), "service.photos_added", actor=actor, subject=f"service:{service.id}",
                    payload={"photo_ids": ids, "positions": free[: len(ids)]},
                )  # fmt: skip
        except IntegrityError:  # another add took one of these positions meanwhile: look again
            continue
        await check.submit(added)
        return added
    raise ServiceConflict()


async def remove(actor: Actor, provider: Provider, service_id: int, photo_id: int) -> None:
    service = await service_of(provider, service_id)
    async with in_transaction():
        removed = await ServicePhoto.filter(service_id=service.id, photo_id=photo_id).delete()
        if not removed:
            raise ServicePhotoNotFound(details={"photo_id": photo_id})
        await append(
            stream_of(provider.id), "service.photo_removed", actor=actor, subject=f"service:{service.id}",
            payload={"photo_id": photo_id},
        )  # fmt: skip


async def photos_of(service_ids: Sequence[int], *, passed_only: bool) -> dict[int, list[Photo]]:
    """The photos of each service in their order (only those that passed the content check, for
    residents), in two queries for a whole page of services."""
    rows = (
        await ServicePhoto.filter(service_id__in=list(service_ids))
        .order_by("service_id", "position")
        .values_list("id", "service_id", "photo_id")
    )
    if not rows:
        return {}
    query = Photo.filter(id__in=[r[2] for r in rows], attached_to__in=[subject_of(r[0]) for r in rows])  # type: ignore[index]
    if passed_only:
        query = query.filter(moderation=Moderation.PASSED)
    photos = {p.id: p for p in await query}
    found: dict[int, list[Photo]] = {}
    for row_id, service_id, photo_id in rows:  # type: ignore[misc]
        photo = photos.get(photo_id)
        if photo is not None and photo.attached_to == subject_of(row_id):
            found.setdefault(int(service_id), []).append(photo)
    return found

"""Voucher photos of developer-paid first deposits (开发建设单位交存凭证): the bank's voucher, photographed
by the fund office, stored through the photos pipeline and attached to the unit's sub-account
(subject ``fund_voucher:<account id>``) in the transaction that records the deposit.

Only the fund office (county) and the committee of the unit's compound see them, and both see them
even while content security holds one: it is a bank document they check the money against, not
content people post. Everyone else, the property company and the unit's owners included, gets
"not found" from the photos endpoints (fail closed)."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.roles import Role, compound_roles, county_roles
from fund.models import SubAccount
from photos import records
from photos.access import Sight, register_viewer, subject
from photos.models import Photo

SUBJECT_KIND = "fund_voucher"
MAX_PHOTOS = 4


def subject_of(account_id: int) -> str:
    return subject(SUBJECT_KIND, account_id)


async def _can_view(user_id: int, account_id: int) -> Sight:
    account = await SubAccount.get_or_none(id=account_id).only("id", "compound_id")
    if account is None:
        return Sight.NONE
    if Role.FUND_OFFICE in await county_roles(user_id):
        return Sight.MODERATE
    if Role.COMMITTEE in await compound_roles(user_id, account.compound_id):
        return Sight.MODERATE
    return Sight.NONE


register_viewer(SUBJECT_KIND, _can_view)


async def attach(account_id: int, photo_ids: Sequence[int], *, uploader_id: int) -> list[Photo]:
    """Claim the uploader's unattached photos for the account's voucher (inside the caller's
    transaction: all or nothing, PhotoNotAttachable otherwise)."""
    return await records.attach(photo_ids, uploader_id=uploader_id, subject=subject_of(account_id))


async def photos_of(account_id: int) -> list[Photo]:
    return await records.photos_of(subject_of(account_id))

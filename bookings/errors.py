"""The bookings branch of the error tree (core/errors.py).

Invalid
├── BookingInvalid          booking_invalid           a value that does not fit (hours, range, ...)
├── SlotUnavailable         slot_unavailable          not a bookable start: closed, lead time, horizon
└── RatingInvalid           booking_rating_invalid    stars outside 1-5
Forbidden
├── NotProviderMember       not_provider_member       the caller does not act for this provider
├── NotAdmitted             provider_not_admitted     the provider may not serve this compound
├── NotHouseholdMember      not_household_member      neither owner nor resident of the unit
└── NotYourBooking          not_your_booking
NotFound
├── ProviderNotFound        provider_not_found
├── ServiceNotFound         service_not_found
├── StaffNotFound           staff_not_found
├── BookingNotFound         booking_not_found
└── ServicePhotoNotFound    service_photo_not_found   not a photo of this service
Conflict
├── SlotFull                slot_full                 every place of the slot is held or confirmed
├── BookingStateConflict    booking_state_conflict    the booking's state does not allow it
├── CancelTooLate           cancel_too_late           past the provider's free-cancellation limit
├── PriceNotPosted          price_not_posted          the service's price is not live on the board
├── AlreadyRated            booking_already_rated
├── AlreadyAdmitted         provider_already_admitted
├── ServiceConflict         service_conflict          the service changed meanwhile (retry)
├── TooManyServicePhotos    service_photos_full       a service shows at most 9 photos
└── PaymentUnavailable      booking_payment_unavailable  the provider has no WeChat Pay sub-merchant
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class BookingInvalid(Invalid):
    code = "booking_invalid"
    message = "预约信息不正确"


class SlotUnavailable(Invalid):
    code = "slot_unavailable"
    message = "该时段不可预约（未营业、未到提前量或超出可预约范围）"


class RatingInvalid(Invalid):
    code = "booking_rating_invalid"
    message = "评分须为 1 至 5 星"


class NotProviderMember(Forbidden):
    code = "not_provider_member"
    message = "您不是该服务机构的人员"


class NotAdmitted(Forbidden):
    code = "provider_not_admitted"
    message = "该服务机构未获准在本小区提供服务"


class NotHouseholdMember(Forbidden):
    code = "not_household_member"
    message = "只有该房屋的业主或住户可以为其预约"


class NotYourBooking(Forbidden):
    code = "not_your_booking"
    message = "这不是您的预约"


class ProviderNotFound(NotFound):
    code = "provider_not_found"
    message = "服务机构不存在"


class ServiceNotFound(NotFound):
    code = "service_not_found"
    message = "服务项目不存在"


class StaffNotFound(NotFound):
    code = "staff_not_found"
    message = "服务人员不存在"


class BookingNotFound(NotFound):
    code = "booking_not_found"
    message = "预约不存在"


class ServicePhotoNotFound(NotFound):
    code = "service_photo_not_found"
    message = "该服务项目没有这张照片"


class SlotFull(Conflict):
    code = "slot_full"
    message = "该时段已约满，请选择其他时段"


class BookingStateConflict(Conflict):
    code = "booking_state_conflict"
    message = "预约当前状态不允许此操作"


class CancelTooLate(Conflict):
    code = "cancel_too_late"
    message = "已超过免费取消或改约的时限"


class PriceNotPosted(Conflict):
    code = "price_not_posted"
    message = "该服务的价格未在本小区公示栏公示，暂不可预约"


class AlreadyRated(Conflict):
    code = "booking_already_rated"
    message = "该预约已评价"


class AlreadyAdmitted(Conflict):
    code = "provider_already_admitted"
    message = "该服务机构已获准入"


class ServiceConflict(Conflict):
    code = "service_conflict"
    message = "服务项目正被同时修改，请刷新后重试"


class TooManyServicePhotos(Conflict):
    code = "service_photos_full"
    message = "每个服务项目最多 9 张照片，请先删除一些"


class PaymentUnavailable(Conflict):
    code = "booking_payment_unavailable"
    message = "该服务机构暂未开通在线支付，请选择到场付款的服务或联系服务机构"

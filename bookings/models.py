"""Tables of the "bookings" Tortoise app. The registry lives in the core app ("models.Compound", ...).

Prices are integer fen; opening hours are minutes of an Asia/Shanghai day; moments are aware UTC.
``Slot.taken`` is the capacity invariant: it moves only by conditional updates in the transaction
that moves a booking into or out of an active state (bookings.booking)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from bookings.rules import Category, Delivery, MemberRole, PriceUnit, ProviderKind, State


class Provider(Model):
    """Who offers services: the property company of compounds, or an organisation a community admits."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ProviderKind, max_length=20)
    name = fields.CharField(max_length=100)
    company: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, null=True, unique=True, on_delete=fields.RESTRICT
    )
    company_id: int | None
    credit_code = fields.CharField(max_length=18, null=True, unique=True)
    contact_phone = fields.CharField(max_length=20, default="")
    sub_mchid = fields.CharField(max_length=32, null=True)  # its WeChat Pay sub-merchant
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bk_provider"


class ProviderMember(Model):
    """A person acting for an organisation provider (a property company's staff act through their
    role grant instead)."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[Provider] = fields.ForeignKeyField(
        "bookings.Provider", related_name="members", on_delete=fields.CASCADE
    )
    provider_id: int
    user: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    role = fields.CharEnumField(MemberRole, max_length=10)

    class Meta:
        table = "bk_provider_member"
        unique_together = (("provider", "user"),)
        indexes = (("user_id",),)


class Admission(Model):
    """A community admits an organisation to serve its compounds (准入), revoking ends it."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[Provider] = fields.ForeignKeyField(
        "bookings.Provider", related_name="admissions", on_delete=fields.RESTRICT
    )
    provider_id: int
    community: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Community", related_name=False, on_delete=fields.RESTRICT
    )
    community_id: int
    admitted_by_id = fields.IntField(null=True)
    admitted_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    revoke_reason = fields.CharField(max_length=200, default="")

    class Meta:
        table = "bk_admission"
        unique_together = (("provider", "community"),)


class Staff(Model):
    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[Provider] = fields.ForeignKeyField(
        "bookings.Provider", related_name="staff", on_delete=fields.RESTRICT
    )
    provider_id: int
    name = fields.CharField(max_length=50)
    user_id = fields.IntField(null=True)  # their account, if they use the app
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bk_staff"
        indexes = (("provider_id",),)


class StaffHours(Model):
    """A staff member's weekly hours: weekday 0 (Monday) to 6, [start, end) minutes of the day."""

    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "bookings.Staff", related_name="hours", on_delete=fields.CASCADE
    )
    staff_id: int
    weekday = fields.SmallIntField()
    start_minute = fields.SmallIntField()
    end_minute = fields.SmallIntField()

    class Meta:
        table = "bk_staff_hours"
        indexes = (("staff_id",),)


class StaffLeave(Model):
    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "bookings.Staff", related_name="leave", on_delete=fields.CASCADE
    )
    staff_id: int
    starts_on = fields.DateField()
    ends_on = fields.DateField()  # inclusive
    reason = fields.CharField(max_length=100, default="")

    class Meta:
        table = "bk_staff_leave"
        indexes = (("staff_id", "starts_on"),)


class Service(Model):
    """A service of a provider in one compound, at the price posted on the compound's board."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[Provider] = fields.ForeignKeyField(
        "bookings.Provider", related_name="services", on_delete=fields.RESTRICT
    )
    provider_id: int
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    name = fields.CharField(max_length=50)
    category = fields.CharEnumField(Category, max_length=20)
    description = fields.CharField(max_length=500, default="")
    delivery = fields.CharEnumField(Delivery, max_length=10)
    duration_minutes = fields.SmallIntField()
    # the current price (a copy of the latest ServicePrice, so the catalogue is one query)
    price_fen = fields.IntField()
    price_unit = fields.CharEnumField(PriceUnit, max_length=10)
    price_id = fields.IntField(null=True)
    notice_id = fields.IntField(null=True)  # its entry on the compound's board (life_services)
    slot_minutes = fields.SmallIntField()
    capacity = fields.SmallIntField()
    lead_minutes = fields.IntField(default=120)
    horizon_days = fields.SmallIntField(default=14)
    free_cancel_hours = fields.SmallIntField(default=2)
    hold_minutes = fields.SmallIntField(default=10)
    pay_on_site = fields.BooleanField(default=False)
    open_on_holidays = fields.BooleanField(default=False)
    # reminders before a booked slot (bookings.reminders): the evening before, and N hours before (0: none)
    remind_day_before = fields.BooleanField(default=True)
    remind_hours = fields.SmallIntField(default=2)
    staffed = fields.BooleanField(default=False)  # capacity also limited by its named staff
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bk_service"
        indexes = (("compound_id", "category", "active"), ("provider_id",))


class ServicePrice(Model):
    """Every price a service was posted at: a booking keeps the one current when it was made."""

    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="prices", on_delete=fields.RESTRICT
    )
    service_id: int
    price_fen = fields.IntField()
    price_unit = fields.CharEnumField(PriceUnit, max_length=10)
    notice_id = fields.IntField()
    notice_revision = fields.IntField()
    set_by_id = fields.IntField(null=True)
    effective_at = fields.DatetimeField()

    class Meta:
        table = "bk_service_price"
        indexes = (("service_id", "effective_at"),)


class ServiceHours(Model):
    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="hours", on_delete=fields.CASCADE
    )
    service_id: int
    weekday = fields.SmallIntField()
    start_minute = fields.SmallIntField()
    end_minute = fields.SmallIntField()

    class Meta:
        table = "bk_service_hours"
        indexes = (("service_id",),)


class ServiceClosure(Model):
    """A day a service is closed besides the holidays of the calendar."""

    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="closures", on_delete=fields.CASCADE
    )
    service_id: int
    day = fields.DateField()
    reason = fields.CharField(max_length=100, default="")

    class Meta:
        table = "bk_service_closure"
        unique_together = (("service", "day"),)


class ServiceStaff(Model):
    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="staff_links", on_delete=fields.CASCADE
    )
    service_id: int
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "bookings.Staff", related_name="service_links", on_delete=fields.CASCADE
    )
    staff_id: int

    class Meta:
        table = "bk_service_staff"
        unique_together = (("service", "staff"),)


class Slot(Model):
    """One bookable time of a service, made when first booked. Never more than ``capacity`` active
    bookings: ``taken`` rises only by ``UPDATE … SET taken = taken + 1 WHERE taken < capacity``."""

    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="slots", on_delete=fields.RESTRICT
    )
    service_id: int
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    capacity = fields.SmallIntField()
    taken = fields.SmallIntField(default=0)

    class Meta:
        table = "bk_slot"
        unique_together = (("service", "starts_at"),)


class Booking(Model):
    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="bookings", on_delete=fields.RESTRICT
    )
    service_id: int
    slot: fields.ForeignKeyRelation[Slot] = fields.ForeignKeyField(
        "bookings.Slot", related_name="bookings", on_delete=fields.RESTRICT
    )
    slot_id: int
    provider_id = fields.IntField()
    compound_id = fields.IntField()
    unit: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    unit_id: int
    user: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    user_id: int
    state = fields.CharEnumField(State, max_length=12, default=State.HELD)
    starts_at = fields.DatetimeField()  # a copy of the slot's, for lists and rules
    price: fields.ForeignKeyRelation[ServicePrice] = fields.ForeignKeyField(
        "bookings.ServicePrice", related_name=False, on_delete=fields.RESTRICT
    )
    price_id: int
    amount_fen = fields.IntField()  # what this booking costs, from the price current when it was made
    pay_on_site = fields.BooleanField(default=False)
    hold_expires_at = fields.DatetimeField(null=True)
    # when its next reminder is due (bookings.reminders), for its current start; null: none left
    next_reminder_at = fields.DatetimeField(null=True)
    order_id = fields.IntField(null=True)  # the payments order paying it
    refunded_fen = fields.IntField(default=0)
    # paid after it was cancelled, or after its hold ran out and its place was taken: the money goes
    # back by the periodic job (a payment handler must not call WeChat Pay)
    refund_pending = fields.BooleanField(default=False)
    note = fields.CharField(max_length=200, default="")
    staff_id = fields.IntField(null=True)
    arrived_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    cancelled_by = fields.CharField(max_length=10, default="")  # resident | provider | system
    cancel_reason = fields.CharField(max_length=200, default="")
    stars = fields.SmallIntField(null=True)
    comment = fields.CharField(max_length=300, default="")
    rated_at = fields.DatetimeField(null=True)
    complaint_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bk_booking"
        indexes = (
            ("user_id", "id"),
            ("slot_id", "state"),
            ("state", "hold_expires_at"),
            ("provider_id", "starts_at"),
            ("provider_id", "rated_at"),
            ("refund_pending",),
            ("state", "next_reminder_at"),
        )


class BookingEvent(Model):
    """The visible history of a booking: every transition with who made it."""

    id = fields.IntField(primary_key=True)
    booking: fields.ForeignKeyRelation[Booking] = fields.ForeignKeyField(
        "bookings.Booking", related_name="events", on_delete=fields.CASCADE
    )
    booking_id: int
    action = fields.CharField(max_length=20)
    from_state = fields.CharField(max_length=12, default="")
    to_state = fields.CharField(max_length=12, default="")
    actor_id = fields.IntField(null=True)
    note = fields.CharField(max_length=200, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "bk_booking_event"
        indexes = (("booking_id",),)


class ServicePhoto(Model):
    """A photo of a service, shown in the catalogue (bookings.gallery). The photo (photos pipeline)
    is attached to subject ``service_photo:<this row's id>``, so deleting the row hides it from
    everyone but its uploader. A service has at most ``gallery.MAX_PHOTOS``: each row holds one of
    the positions below it, unique per service."""

    id = fields.IntField(primary_key=True)
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "bookings.Service", related_name="photos", on_delete=fields.CASCADE
    )
    service_id: int
    position = fields.SmallIntField()
    photo_id = fields.IntField()
    added_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bk_service_photo"
        unique_together = (("service", "position"),)
        indexes = (("photo_id",),)

"""Consent per user and template, the outbox/inbox, and the state of periodic jobs.

notify sits low in the layers: it refers to accounts' User only by the "models.User" label and
imports no domain package."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class ConsentStatus(StrEnum):
    """What wx.requestSubscribeMessage reported for one template id."""

    ACCEPT = "accept"
    REJECT = "reject"
    BAN = "ban"  # the template was banned by WeChat (or the user turned off all subscribe messages)


class Consent(Model):
    """How many sends a user has authorised for one template: one accept is one send, and an always
    authorisation (a long-term template) keeps it until a 43101 says otherwise."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    template_id = fields.CharField(max_length=64)
    status = fields.CharEnumField(ConsentStatus, max_length=10)
    remaining = fields.IntField(default=0)
    always = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notify_consent"
        unique_together = (("user", "template_id"),)


class State(StrEnum):
    PENDING = "pending"  # waiting for the sender (or its next attempt after a transient error)
    CLAIMED = "claimed"  # a sender holds it and has not called WeChat yet (safe to hand back)
    SENDING = "sending"  # WeChat is being called: never handed to another sender
    SENT = "sent"
    NO_CONSENT = "no_consent"  # in the inbox only: the user had not authorised this template
    FAILED = "failed"  # gave up: a permanent error, too many attempts, or interrupted mid-send


class Notification(Model):
    """One notification of one event to one user: the outbox row (written in the transaction of the
    change that causes it) and, once delivered or not, the user's inbox entry."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)  # event:subject:user - never two for one event
    user: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=40)
    template_id = fields.CharField(max_length=64)
    title = fields.CharField(max_length=40)
    summary = fields.CharField(max_length=200)
    data: fields.Field[dict] = fields.JSONField()  # the template's fields, already within WeChat's limits
    page = fields.CharField(max_length=200)
    state = fields.CharEnumField(State, max_length=12, default=State.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=16, default="")  # the claiming sender's token
    last_error = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notify_notification"
        indexes = (("state", "next_attempt_at"), ("user_id", "id"))


class JobState(Model):
    """One row per periodic job: the period last claimed (a conditional UPDATE, so one run per period
    across every scheduler), how many runs, and the consecutive failures with the last error."""

    name = fields.CharField(max_length=64, primary_key=True)
    period = fields.BigIntField(default=-1)
    runs = fields.IntField(default=0)
    failures = fields.IntField(default=0)  # consecutive; 0 after a success
    total_failures = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, default="")
    last_started_at = fields.DatetimeField(null=True)
    last_finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notify_job_state"


class EventMark(Model):
    """That a one-off event about a subject was published (e.g. "motion.closing_soon:motion:7"), for
    events a clock publishes rather than a change: the job looks it up by key instead of scanning the
    outbox, and the unique key makes two racing publishers publish once."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)
    at = fields.DatetimeField()

    class Meta:
        table = "notify_event_mark"

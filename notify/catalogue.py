"""Our events and the subscribe-message templates they are sent with.

Each template lists its fields as WeChat defines them in the console (key, kind) and the parameter of
the event that fills each; values are fitted to WeChat's limits (rules.fit) when the row is written, so
what the inbox shows is what WeChat receives. ``page`` is the mini-program page a tap opens.

The template ids here are the ones this product's templates are registered under in the mini-program
console (订阅消息 → 我的模板); a deployment with other ids replaces them with ``configure``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from notify.rules import Kind


@dataclass(frozen=True, slots=True)
class Template:
    event: str
    template_id: str
    title: str  # the inbox heading
    summary: str  # the inbox text, formatted over the event's parameters
    fields: tuple[tuple[str, Kind, str], ...]  # (WeChat key, kind, parameter name)
    page: str  # formatted over the event's parameters


T, N, P, C, A, TM, D = (
    Kind.THING,
    Kind.NAME,
    Kind.PHRASE,
    Kind.CHARACTER_STRING,
    Kind.AMOUNT,
    Kind.TIME,
    Kind.DATE,
)

_TEMPLATES = [
    Template("motion.announced", "tmpl_motion_announced", "表决事项公告", "{title}将于{opens_at:%m月%d日}开始投票",
             (("thing1", T, "title"), ("time2", TM, "opens_at"), ("time3", TM, "closes_at")),
             "pages/voting/motion?id={motion_id}"),
    Template("motion.opening", "tmpl_motion_opening", "投票已开始", "{title}已开始投票，请在截止前表决",
             (("thing1", T, "title"), ("time2", TM, "closes_at")),
             "pages/voting/motion?id={motion_id}"),
    Template("motion.closing_soon", "tmpl_motion_closing", "投票即将截止", "{title}即将截止，您尚未表决",
             (("thing1", T, "title"), ("time2", TM, "closes_at")),
             "pages/voting/motion?id={motion_id}"),
    Template("motion.result", "tmpl_motion_result", "表决结果公布", "{title}的表决结果已公示，异议期至{objection_until:%m月%d日}",
             (("thing1", T, "title"), ("thing2", T, "outcome"), ("time3", TM, "objection_until")),
             "pages/voting/result?id={motion_id}"),
    Template("complaint.accepted", "tmpl_complaint_progress", "投诉已受理", "您的投诉（{category}）已受理",
             (("character_string1", C, "number"), ("thing2", T, "category"), ("phrase3", P, "status")),
             "pages/complaints/detail?id={complaint_id}"),
    Template("complaint.dispatched", "tmpl_complaint_progress", "投诉已派单", "您的投诉（{category}）已派给{party}处理",
             (("character_string1", C, "number"), ("thing2", T, "category"), ("phrase3", P, "status")),
             "pages/complaints/detail?id={complaint_id}"),
    Template("complaint.resolved", "tmpl_complaint_progress", "投诉已办结", "您的投诉（{category}）已办结，请确认",
             (("character_string1", C, "number"), ("thing2", T, "category"), ("phrase3", P, "status")),
             "pages/complaints/detail?id={complaint_id}"),
    Template("complaint.rate", "tmpl_complaint_rate", "请评价处理结果", "您的投诉（{category}）已办结，请评价",
             (("character_string1", C, "number"), ("thing2", T, "category")),
             "pages/complaints/detail?id={complaint_id}&rate=1"),
    Template("bill.issued", "tmpl_bill_issued", "账单已出", "{item}账单{amount_text}已出，请于{due:%m月%d日}前缴纳",
             (("thing1", T, "item"), ("amount2", A, "amount_fen"), ("date3", D, "due")),
             "pages/payments/bill?id={bill_id}"),
    Template("bill.overdue", "tmpl_bill_overdue", "账单已逾期", "{item}账单{amount_text}已逾期",
             (("thing1", T, "item"), ("amount2", A, "amount_fen"), ("date3", D, "due")),
             "pages/payments/bill?id={bill_id}"),
    Template("fund.topup_due", "tmpl_fund_topup", "维修资金续筹", "{unit}维修资金余额不足，需续筹{amount_text}",
             (("thing1", T, "unit"), ("amount2", A, "amount_fen"), ("date3", D, "due")),
             "pages/fund/unit?id={unit_id}"),
    Template("booking.confirmed", "tmpl_booking", "预约成功", "{service}已预约：{starts_at:%m月%d日 %H:%M}",
             (("thing1", T, "service"), ("time2", TM, "starts_at"), ("phrase3", P, "status")),
             "pages/bookings/detail?id={booking_id}"),
    Template("booking.reminder", "tmpl_booking", "预约提醒", "{service}将于{starts_at:%m月%d日 %H:%M}开始",
             (("thing1", T, "service"), ("time2", TM, "starts_at"), ("phrase3", P, "status")),
             "pages/bookings/detail?id={booking_id}"),
    Template("booking.cancelled", "tmpl_booking", "预约已取消", "{service}（{starts_at:%m月%d日 %H:%M}）已取消",
             (("thing1", T, "service"), ("time2", TM, "starts_at"), ("phrase3", P, "status")),
             "pages/bookings/detail?id={booking_id}"),
    Template("notice.acknowledge", "tmpl_notice_ack", "请阅知公告", "{title}需要您阅知确认",
             (("thing1", T, "title"), ("time2", TM, "published_at")),
             "pages/notices/detail?id={notice_id}"),
]  # fmt: skip

BY_EVENT: dict[str, Template] = {t.event: t for t in _TEMPLATES}


def template_ids() -> frozenset[str]:
    return frozenset(t.template_id for t in BY_EVENT.values())


def events_of(template_id: str) -> list[str]:
    return [t.event for t in BY_EVENT.values() if t.template_id == template_id]


_DEFAULTS: dict[str, Template] = dict(BY_EVENT)
PLACEHOLDER_PREFIX = "tmpl_"  # the catalogue's own ids: stand-ins until the console's are configured


def configure(ids: dict[str, str]) -> None:
    """Template ids from the settings (NOTIFY_TEMPLATE_IDS): ``ids`` maps an event, or a catalogue
    id shared by several events, to the console's id. A key that is neither is refused (a typo would
    otherwise leave an event on its stand-in id). Starts from the catalogue's ids each time."""
    known = set(_DEFAULTS) | {t.template_id for t in _DEFAULTS.values()}
    unknown = sorted(set(ids) - known)
    if unknown:
        raise ValueError(
            f"NOTIFY_TEMPLATE_IDS names no event or template of the catalogue: {', '.join(unknown)}"
        )
    for event, template in _DEFAULTS.items():
        new = ids.get(event) or ids.get(template.template_id)
        BY_EVENT[event] = replace(template, template_id=new) if new else template


def placeholders() -> list[str]:
    """Events still on a stand-in id (nothing is delivered for them by the real WeChat)."""
    return sorted(e for e, t in BY_EVENT.items() if t.template_id.startswith(PLACEHOLDER_PREFIX))

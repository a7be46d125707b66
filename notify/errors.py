"""Errors of notify.

Invalid
├── TemplateUnknown      notify_template_unknown    a template id that is not in our catalogue
└── ConsentInvalid       notify_consent_invalid     a consent result other than accept/reject/ban/filter
NotFound
└── NotificationNotFound notify_not_found           not in this user's inbox
"""

from __future__ import annotations

from core.errors import Invalid, NotFound


class TemplateUnknown(Invalid):
    code = "notify_template_unknown"
    message = "未知的订阅消息模板"


class ConsentInvalid(Invalid):
    code = "notify_consent_invalid"
    message = "订阅授权结果不正确"


class NotificationNotFound(NotFound):
    code = "notify_not_found"
    message = "未找到该消息"

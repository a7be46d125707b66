"""The one error tree of the product.

Every domain error derives from one of a few base classes; the HTTP layer maps a base class to a
status code once (server/errors.py) by walking the MRO, so domain code never mentions a status.

    DomainError                      500  (never raised directly)
    ├── Invalid                      400  bad input; ``details`` says which field and why
    │   └── UnsupportedMedia         415
    │   └── PayloadTooLarge          413
    ├── Unauthenticated              401  no or expired session
    ├── Forbidden                    403  authenticated but not allowed
    ├── NotFound                     404
    │   └── MethodNotAllowed         405
    ├── Conflict                     409  the state does not allow it (duplicate, wrong status, ...)
    ├── RateLimited                  429
    └── Unavailable                  503  a dependency (database, cache, WeChat) is down or busy
    │   ├── DatabaseUnavailable      503  the database refuses or dropped the connection
    │   └── CacheUnavailable         503  Redis refuses or dropped the connection
    └── UpstreamError                502  a dependency answered with an error we cannot fix here

An error may carry ``retry_after`` (seconds); the HTTP layer sends it as the Retry-After header.

Subclasses set a stable ``code`` (English snake case, part of the API contract) and a default
Chinese ``message`` for the user.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "internal_error"
    message: ClassVar[str] = "服务器内部错误，请稍后再试"

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None) -> None:
        self.user_message = message or type(self).message
        self.details = details
        self.error_code = code or type(self).code
        super().__init__(self.user_message)


class Invalid(DomainError):
    code = "invalid"
    message = "请求内容不正确"


class UnsupportedMedia(Invalid):
    code = "unsupported_media_type"
    message = "不支持的内容类型"


class PayloadTooLarge(Invalid):
    code = "payload_too_large"
    message = "提交的内容过大"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    message = "请先登录"


class Forbidden(DomainError):
    code = "forbidden"
    message = "没有权限执行此操作"


class NotFound(DomainError):
    code = "not_found"
    message = "请求的资源不存在"


class MethodNotAllowed(NotFound):
    code = "method_not_allowed"
    message = "不支持该请求方法"


class Conflict(DomainError):
    code = "conflict"
    message = "当前状态不允许此操作"


class RateLimited(DomainError):
    code = "rate_limited"
    message = "操作过于频繁，请稍后再试"


class Unavailable(DomainError):
    code = "unavailable"
    message = "服务暂时不可用，请稍后再试"
    retry_after: int | None = 1  # outages we see are short (a restart, a failover): ask again soon


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
    message = "数据库暂时不可用，请稍后再试"


class CacheUnavailable(Unavailable):
    code = "cache_unavailable"
    message = "缓存服务暂时不可用，请稍后再试"


class UpstreamError(DomainError):
    code = "upstream_error"
    message = "外部服务返回错误，请稍后再试"

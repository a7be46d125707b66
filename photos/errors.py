"""Errors of the photo pipeline, each a subclass of the product's error tree (core/errors.py).

The ``code`` is part of the API contract (stable English snake case); ``message`` is shown to the user.
"""

from __future__ import annotations

from core.errors import Conflict, Invalid, NotFound, PayloadTooLarge, UnsupportedMedia


class PhotoEmpty(Invalid):
    code = "photo_empty"
    message = "没有收到图片内容，请重新选择图片"


class PhotoTooLarge(PayloadTooLarge):
    code = "photo_too_large"
    message = "图片文件过大，请压缩后重新上传"


class PhotoTooManyPixels(PayloadTooLarge):
    code = "photo_too_many_pixels"
    message = "图片分辨率过高，请缩小后重新上传"


class PhotoUnsupportedFormat(UnsupportedMedia):
    code = "photo_unsupported_format"
    message = "仅支持 JPEG、PNG、WebP 或 HEIC 格式的图片"


class PhotoHeicUnavailable(UnsupportedMedia):
    code = "photo_heic_unavailable"
    message = "暂不支持 HEIC 格式的图片，请在相机设置中选择“兼容性最佳”，或上传 JPEG 图片"


class PhotoCorrupt(Invalid):
    code = "photo_corrupt"
    message = "图片已损坏或不完整，请重新上传"


class PhotoKeyInvalid(Invalid):
    code = "photo_key_invalid"
    message = "图片地址不正确"


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    message = "图片不存在或无权查看"


class PhotoNotAttachable(Conflict):
    code = "photo_not_attachable"
    message = "图片不存在、不是您上传的，或已被使用"

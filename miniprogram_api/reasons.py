"""Chinese reasons for every pydantic validation error type, so no English ``msg`` reaches a client.

Each reason may name values from the error's ``ctx`` (``{max_length}``, ``{le}``, ``{expected}``):
they are filled in when present. ``REASONS`` covers every member of pydantic-core's ``ErrorType``
(a test holds that), and an unknown type from a future pydantic still gets the generic reason.
"""

from __future__ import annotations

import re
from typing import Any

GENERIC = "内容不符合要求"

REASONS: dict[str, str] = {
    "no_such_attribute": "不存在此字段",
    "json_invalid": "不是合法的 JSON",
    "json_type": "须为 JSON 文本",
    "needs_python_object": "内容类型不正确",
    "recursion_loop": "内容中存在循环引用",
    "recursion_depth_exceeded": "内容嵌套过深",
    "missing": "缺少此字段",
    "frozen_field": "此字段不可修改",
    "frozen_instance": "此对象不可修改",
    "extra_forbidden": "不认识的字段（请检查字段名的拼写；未定义的字段不予接受）",
    "invalid_key": "字段名须为文本",
    "get_attribute_error": "无法读取此字段",
    "model_type": "须为对象（JSON object）",
    "model_attributes_type": "须为对象（JSON object）",
    "dataclass_type": "须为对象（JSON object）",
    "dataclass_exact_type": "须为对象（JSON object）",
    "named_tuple_type": "须为数组",
    "default_factory_not_called": "无法生成默认值",
    "none_required": "须为空（null）",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "multiple_of": "须为 {multiple_of} 的整数倍",
    "finite_number": "须为有限的数值",
    "too_short": "条目过少（至少 {min_length} 项）",
    "too_long": "条目过多（最多 {max_length} 项）",
    "iterable_type": "须为数组",
    "iteration_error": "无法逐项读取",
    "string_type": "须为文本",
    "string_unicode": "须为合法的 Unicode 文本",
    "string_too_short": "内容过短（至少 {min_length} 个字符）",
    "string_too_long": "内容过长（最多 {max_length} 个字符）",
    "string_pattern_mismatch": "格式不正确（须符合 {pattern}）",
    "string_not_ascii": "只能包含 ASCII 字符",
    "enum": "取值无效，可选值：{expected}",
    "dict_type": "须为对象（JSON object）",
    "frozen_dict_type": "须为对象（JSON object）",
    "ordered_dict_type": "须为对象（JSON object）",
    "counter_type": "须为对象（JSON object）",
    "mapping_type": "须为对象（JSON object）",
    "list_type": "须为数组",
    "deque_type": "须为数组",
    "tuple_type": "须为数组",
    "set_type": "须为数组",
    "set_item_not_hashable": "数组中的条目无法比较",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_parsing_size": "整数超出允许范围",
    "int_from_float": "须为整数（不能带小数）",
    "float_type": "须为数值",
    "float_parsing": "须为数值",
    "bytes_type": "须为文本",
    "bytes_too_short": "内容过短（至少 {min_length} 字节）",
    "bytes_too_long": "内容过长（最多 {max_length} 字节）",
    "bytes_invalid_encoding": "编码不正确",
    "value_error": GENERIC,
    "assertion_error": GENERIC,
    "literal_error": "取值无效，可选值：{expected}",
    "missing_sentinel_error": GENERIC,
    "ellipsis_error": GENERIC,
    "date_type": "须为日期，例如 2026-12-20",
    "date_parsing": "日期格式不正确，例如 2026-12-20",
    "date_from_datetime_parsing": "日期格式不正确，例如 2026-12-20",
    "date_from_datetime_inexact": "须为日期（不带时刻），例如 2026-12-20",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "time_type": "须为时刻，例如 10:00:00",
    "time_parsing": "时刻格式不正确，例如 10:00:00",
    "datetime_type": "须为带时区的时间，例如 2026-12-20T10:00:00+08:00",
    "datetime_parsing": "时间格式不正确，须为带时区的 RFC 3339 时间，例如 2026-12-20T10:00:00+08:00",
    "datetime_object_invalid": "时间无效",
    "datetime_from_date_parsing": "时间格式不正确，须为带时区的 RFC 3339 时间，例如 2026-12-20T10:00:00+08:00",
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_naive": "时间不能带时区",
    "timezone_aware": "时间须带时区，例如 2026-12-20T10:00:00+08:00（不带时区的时间不予接受，以免按 UTC 理解）",
    "timezone_offset": "时区偏移不正确",
    "time_delta_type": "须为时长",
    "time_delta_parsing": "时长格式不正确",
    "frozen_set_type": "须为数组",
    "is_instance_of": "内容类型不正确",
    "is_subclass_of": "内容类型不正确",
    "callable_type": "内容类型不正确",
    "union_tag_invalid": "类型标记无效，可选值：{expected_tags}",
    "union_tag_not_found": "缺少类型标记字段 {discriminator}",
    "arguments_type": "参数格式不正确",
    "missing_argument": "缺少此参数",
    "unexpected_keyword_argument": "不认识的参数",
    "missing_keyword_only_argument": "缺少此参数",
    "unexpected_positional_argument": "多余的参数",
    "missing_positional_only_argument": "缺少此参数",
    "multiple_argument_values": "参数重复",
    "url_type": "须为网址",
    "url_parsing": "网址格式不正确",
    "url_syntax_violation": "网址格式不正确",
    "url_too_long": "网址过长（最多 {max_length} 个字符）",
    "url_scheme": "网址协议不正确（须为 {expected_schemes}）",
    "uuid_type": "须为 UUID",
    "uuid_parsing": "UUID 格式不正确",
    "uuid_version": "UUID 版本不正确",
    "decimal_type": '须为十进制数（建议以文本提交，例如 "88.50"）',
    "decimal_parsing": '须为十进制数，例如 "88.50"',
    "decimal_max_digits": "数字位数过多（最多 {max_digits} 位）",
    "decimal_max_places": "小数位数过多（最多 {decimal_places} 位）",
    "decimal_whole_digits": "整数部分位数过多（最多 {whole_digits} 位）",
    "fraction_type": "须为分数",
    "fraction_parsing": "分数格式不正确",
    "complex_type": "须为复数",
    "complex_str_parsing": "复数格式不正确",
}

_CJK = re.compile(r"[\u4e00-\u9fff]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def reason(error_type: str, ctx: dict[str, Any] | None, message: str = "") -> str:
    """The Chinese reason for one pydantic error. A custom validator's own message is kept only when
    it is Chinese already (our validators speak Chinese; a library's English message never leaks)."""
    if error_type in ("value_error", "assertion_error") and _CJK.search(message):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = REASONS.get(error_type, GENERIC)
    values = ctx or {}
    names = _PLACEHOLDER.findall(template)
    if any(values.get(name) is None for name in names):
        # No values to name (a future pydantic, a hand-raised error): the reason without its detail.
        return re.split(r"[（，：]|须(?:大于|小于|不大于|不小于|为 \{)", template)[0] or GENERIC
    return _PLACEHOLDER.sub(lambda m: _shown(values[m.group(1)]), template)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("items", 0, "note")`` → ``items[0].note``; the body itself is ``body``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"

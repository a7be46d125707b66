"""A person's profile: the nickname they choose (bounded, checked, never required, never personal
data), and the one way every view names a person where a name is expected.

Nobody has to give a name: without a nickname a person shows as a masked label, e.g. "住户（尾号5678）"
(the last four digits of the phone, as masked phones show them anyway) or "住户·K7QD" (a tag derived
from the account, stable, revealing nothing), never a raw user id.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

from accounts.models import User
from core.errors import Invalid
from wechat.protocol import Scene, WeChatApi

NICKNAME_MAX = 20
# Seven digits in a row look like a phone or ID number: personal data is not a nickname.
_DIGIT_RUN = re.compile(r"\d{7,}")


class NicknameInvalid(Invalid):
    code = "nickname_invalid"
    message = f"昵称须为 1–{NICKNAME_MAX} 个字，不含控制字符"


class NicknamePersonal(Invalid):
    code = "nickname_personal_data"
    message = "昵称不能包含手机号、证件号等个人信息"


class NicknameRisky(Invalid):
    code = "nickname_content_risky"
    message = "昵称含有违规或需审核的内容，请换一个"


def normalise_nickname(text: str) -> str:
    """The nickname as stored (NFC, inner whitespace collapsed), or NicknameInvalid/NicknamePersonal."""
    nickname = " ".join(unicodedata.normalize("NFC", text).split())
    if not 1 <= len(nickname) <= NICKNAME_MAX or any(unicodedata.category(ch)[0] == "C" for ch in nickname):
        raise NicknameInvalid(details={"max_length": NICKNAME_MAX})
    if _DIGIT_RUN.search(nickname.replace(" ", "").replace("-", "")):
        raise NicknamePersonal()
    return nickname


def masked_label(user: User, role_label: str = "用户") -> str:
    """A name for someone without a nickname that shows no id: the phone's last four digits if any,
    else a short stable tag derived from the account."""
    if user.phone and len(user.phone) >= 4:
        return f"{role_label}（尾号{user.phone[-4:]}）"
    tag = base64.b32encode(hashlib.sha256(f"wuye-user:{user.openid}".encode()).digest()).decode()[:4]
    return f"{role_label}·{tag}"


def display_name(user: User, role_label: str = "用户") -> str:
    return user.nickname or masked_label(user, role_label)


async def set_nickname(wechat: WeChatApi, user: User, nickname: str) -> User:
    """Set (or, with "", clear) the caller's nickname. A nickname is shown to others, so it passes
    WeChat's content check (scene: profile) first; anything but "pass" is refused."""
    value = "" if not nickname.strip() else normalise_nickname(nickname)
    if value:
        verdict = await wechat.msg_sec_check(openid=user.openid, content=value, scene=int(Scene.PROFILE))
        if not verdict.passed:
            raise NicknameRisky(details={"suggest": verdict.suggest, "label": verdict.label})
    if value != user.nickname:  # a person's own display setting, not an admin action: not audited
        await User.filter(id=user.id).update(nickname=value)
        user.nickname = value
    return user

"""Voting errors. Each ``code`` is part of the API contract; ``details`` tells the client what to fix.

Invalid
├── VotingRollInvalid            the units given for a roll are inconsistent (no owner, bad area, ...)
│   └── CoOwnedUnitWithoutVoter  co-owned units where the co-owners have not designated who votes
├── VoterNotOnRoll               a ballot from someone who is not on the frozen roll
├── BallotInvalid                an election ballot that cannot be counted as cast
│   ├── BallotDuplicateCandidate
│   ├── BallotUnknownCandidate
│   └── BallotTooManyCandidates  more candidates chosen than there are seats
└── ElectionInvalid              the election itself is set up wrong (no seats, repeated candidates)
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable


class VotingRollInvalid(Invalid):
    code = "voting_roll_invalid"
    message = "投票名册数据不正确"


class CoOwnedUnitWithoutVoter(VotingRollInvalid):
    code = "co_owned_unit_without_voter"
    message = "共有房屋尚未指定代表投票的共有人"


class VoterNotOnRoll(Invalid):
    code = "voter_not_on_roll"
    message = "投票人不在本次表决的业主名册中"


class BallotInvalid(Invalid):
    code = "ballot_invalid"
    message = "选票填写不正确"


class BallotDuplicateCandidate(BallotInvalid):
    code = "ballot_duplicate_candidate"
    message = "同一候选人在一张选票上只能选一次"


class BallotUnknownCandidate(BallotInvalid):
    code = "ballot_unknown_candidate"
    message = "选票上有不在候选人名单中的人选"


class BallotTooManyCandidates(BallotInvalid):
    code = "ballot_too_many_candidates"
    message = "所选人数超过应选名额"


class ElectionInvalid(Invalid):
    code = "election_invalid"
    message = "选举设置不正确：候选人不能重复，应选名额至少为一名"


class MotionNotFound(NotFound):
    code = "motion_not_found"
    message = "未找到该表决事项"


class MotionWrongState(Conflict):
    code = "motion_wrong_state"
    message = "表决事项当前状态不允许此操作"


class MotionInvalid(Invalid):
    code = "motion_invalid"
    message = "表决事项内容有误"


class VotingNotOpen(Conflict):
    code = "voting_not_open"
    message = "不在投票时间内"


class NotAVoter(Forbidden):
    code = "not_a_voter"
    message = "您不在本次表决的业主名单中，或尚未完成业主认证"


class BallotAlreadyCast(Conflict):
    code = "ballot_already_cast"
    message = "您已投票，本事项不允许修改选票"


class ExtensionRefused(Conflict):
    code = "extension_refused"
    message = "投票期限只能延长一次，且不得超过规定天数"


class ProxyNotFound(NotFound):
    code = "proxy_not_found"
    message = "未找到该委托"


class ProxyUserNotFound(NotFound):
    code = "proxy_user_not_found"
    message = "受托人不存在，请确认受托人已登录过小程序"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    message = "未找到该回执码对应的选票"


class SealingBusy(Unavailable):
    code = "sealing_busy"
    message = "选票正在封存，请稍后再试"


class ProxyInvitationInvalid(Invalid):
    code = "proxy_invitation_invalid"
    message = "委托邀请无效、已使用或已过期"


class ProxySelf(Invalid):
    code = "proxy_self"
    message = "不能委托自己代为投票"


class ProxyAlreadyAuthorised(Conflict):
    code = "proxy_already_authorised"
    message = "您已是该业主本次表决的代理人（或正在等待业主委员会审核）"


class ProxyAlreadyVoted(Conflict):
    code = "proxy_already_voted"
    message = "代理人已代为投票，不能再撤销委托（您本人仍可在允许改票的事项中重新投票）"


class ProxyNotActive(Conflict):
    code = "proxy_not_active"
    message = "该委托已被驳回或撤销，无需再撤销"


class ProxyDocumentMissing(Invalid):
    code = "proxy_document_missing"
    message = "请上传业主签字的书面委托书照片"


class FollowMajorityLocked(Conflict):
    """details: {"motions": [ids]}: the announced or open motions of the compound."""

    code = "follow_majority_locked"
    message = "本小区有已公告或正在投票的表决事项，其计票规则已向业主公布，暂不能修改“从多”设置"


class FollowMajorityBasisMissing(Invalid):
    code = "follow_majority_basis_missing"
    message = "启用“从多”须注明业主大会议事规则中的依据条款"

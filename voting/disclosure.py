"""Ballot secrecy: what of a motion's ballots anyone may see, and when. One rule, asked by every read
(turnout, ballot list, export, archive), so that no read can show more than the others.

While voting (and until the count), nobody — the committee included — sees a choice: only
participation, as totals (heads and area). A room is never linked to a ballot then, not even to say
that it voted: a committee that could watch which rooms vote while the totals move could tell how
each room voted. After the count:

- an open (记名) motion publishes every counted ballot with room, area and choice, and its export
  holds each cast in full, so anyone may recompute each ballot's hash and the totals;
- a secret (无记名) motion publishes the totals only. Its export still commits to every ballot by its
  hash, sealed into the chain in Merkle batches: each voter checks their own ballot with the receipt
  (the ballot's nonce and choices recompute its hash; the proof leads to the sealed root), and anyone
  checks that the number of counted ballots is the participation the totals claim.

Who may read at all (roll, results, ballot list, export) is the HTTP layer's part: the compound's
owners and residents, its committee, the community admin and the supervisor; receipts and the chain
head are public.

    phase        open motion                           secret motion
    voting       participation totals                  participation totals
    counted      totals; room + area + choice          totals
"""

from __future__ import annotations

from voting.models import Motion, MotionStatus

COUNTED_STATES = frozenset({MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL})


def results_published(motion: Motion) -> bool:
    """The count is done: the totals (and for an open motion the ballots) are public."""
    return motion.status in COUNTED_STATES and motion.result is not None


def ballots_by_room_published(motion: Motion) -> bool:
    """May a ballot be shown with its voter (room, area, choice, time, channel)?"""
    return results_published(motion) and not motion.secret

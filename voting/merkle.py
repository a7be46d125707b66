"""Merkle trees over ballot hashes: a batch of ballots is sealed into the audit chain by its root, and
each ballot gets an inclusion proof an owner (or anyone with an export) can check offline.

Leaves are the ballots' SHA-256 hex digests in ballot-id order. A parent is SHA-256 of 0x01 + left +
right (0x00 + hash for leaves, so a leaf can never pose as an inner node); an odd node moves up as is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

Proof = list[tuple[str, str]]  # (side of the sibling: "L" or "R", sibling hash hex)


def _leaf(hex_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(hex_hash)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[str]) -> str:
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = [_leaf(h) for h in leaves]
    while len(level) > 1:
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)
        ]
    return level[0].hex()


def proof(leaves: Sequence[str], index: int) -> Proof:
    level = [_leaf(h) for h in leaves]
    path: Proof = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(("L" if sibling < index else "R", level[sibling].hex()))
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)
        ]
        index //= 2
    return path


def verify(leaf_hash: str, path: Proof, expected_root: str) -> bool:
    node = _leaf(leaf_hash)
    for side, sibling in path:
        other = bytes.fromhex(sibling)
        node = _node(other, node) if side == "L" else _node(node, other)
    return node.hex() == expected_root

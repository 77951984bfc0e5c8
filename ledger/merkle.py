"""RFC 6962 / RFC 9162 Merkle trees: hashing, roots, proofs, verification.

Leaf *i* of the ledger's log is record *i*'s canonical bytes; a leaf hash is
``SHA-256(0x00 || data)`` and an interior node ``SHA-256(0x01 || left ||
right)``.  The store keeps the hash of every *complete* subtree, addressed as
``(level, index)``: node ``(L, i)`` covers leaves ``[i * 2**L, (i + 1) * 2**L)``
(stored under :func:`node_id`).
Any range hash is then a fold of at most ``log2(n)`` stored nodes, so proofs
cost O(log n) reads and never a rebuild.

Proof generation follows RFC 6962 section 2.1 (PATH and SUBPROOF);
verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Node = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def node_id(level: int, index: int) -> int:
    """The node's number in the order nodes complete as leaves are appended.

    Appending leaf ``n - 1`` completes the nodes ending at leaf count ``n``,
    from level 0 upwards, after the ``2(n-1) - popcount(n-1)`` nodes of the
    smaller tree.  Storing nodes under this number makes every write an
    append at the end of one index instead of one insert per tree level.
    """
    before = (index + 1) << level
    before -= 1
    return 2 * before - before.bit_count() + level


def node_count(size: int) -> int:
    """How many complete subtrees (stored nodes) a tree of ``size`` leaves has."""
    return 2 * size - size.bit_count()


def size_of(nodes: int) -> int | None:
    """The tree size with exactly ``nodes`` complete subtrees (None if there is none)."""
    # node_count(n) = 2n - popcount(n) with 1 <= popcount(n) <= 64 for n > 0.
    for size in range((nodes + 1) // 2, (nodes + 64) // 2 + 1):
        if node_count(size) == nodes:
            return size
    return None


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees that make up leaves [start, end), left to right."""
    out = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else 63
        while start + (1 << level) > end:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine complete-subtree hashes (left to right) into the range's hash."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


class Tree:
    """Proofs and roots over stored complete-subtree hashes.

    ``fetch`` returns the hashes of many nodes at once (one database query);
    each method first works out which nodes it needs, then fetches them.
    """

    def __init__(self, fetch: Callable[[Iterable[Node]], dict[Node, bytes]]) -> None:
        self.fetch = fetch

    def root(self, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        nodes = range_nodes(0, size)
        found = self.fetch(nodes)
        return fold([found[n] for n in nodes])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        ranges: list[tuple[int, int]] = []
        _path(index, 0, size, ranges)
        return self._range_hashes(ranges)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        if not 0 < size1 <= size2:
            raise ValueError(f"no consistency proof from size {size1} to {size2}")
        ranges: list[tuple[int, int]] = []
        _subproof(size1, 0, size2, True, ranges)
        return self._range_hashes(ranges)

    def _range_hashes(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        per_range = [range_nodes(a, b) for a, b in ranges]
        found = self.fetch({n for nodes in per_range for n in nodes})
        return [fold([found[n] for n in nodes]) for nodes in per_range]


def _path(m: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """RFC 6962 PATH(m, D[start:end]) as the list of ranges whose hashes form it."""
    n = end - start
    if n == 1:
        return
    k = _largest_power_of_two_below(n)
    if m < k:
        _path(m, start, start + k, out)
        out.append((start + k, end))
    else:
        _path(m - k, start + k, end, out)
        out.append((start, start + k))


def _subproof(m: int, start: int, end: int, whole: bool, out: list[tuple[int, int]]) -> None:
    """RFC 6962 SUBPROOF(m, D[start:end], b)."""
    n = end - start
    if m == n:
        if not whole:
            out.append((start, end))
        return
    k = _largest_power_of_two_below(n)
    if m <= k:
        _subproof(m, start, start + k, whole, out)
        out.append((start + k, end))
    else:
        _subproof(m - k, start + k, end, False, out)
        out.append((start, start + k))


def root_of_data(leaves: Iterable[bytes]) -> bytes:
    """The root of leaf *data* (hashing included), keeping only O(log n) peaks.

    The hot loop of verification and of benchmarks: no allocation per leaf
    beyond the hashes themselves.
    """
    sha = hashlib.sha256
    peaks: list[bytes] = []
    for size, data in enumerate(leaves):
        node = sha(b"\x00" + data).digest()
        n = size
        while n & 1:
            node = sha(b"\x01" + peaks.pop() + node).digest()
            n >>= 1
        peaks.append(node)
    return fold(peaks) if peaks else EMPTY_ROOT


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of a whole list of leaf hashes, in memory (streaming peaks)."""
    builder = RootBuilder()
    for h in leaf_hashes:
        builder.add(h)
    return builder.root()


class RootBuilder:
    """Adds leaves one at a time, keeping only the O(log n) peaks."""

    def __init__(self) -> None:
        self.size = 0
        self.peaks: list[bytes] = []  # complete subtrees, left to right

    def add(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf hash; return every complete node it completes (for storage)."""
        made = [((0, self.size), leaf)]
        node, level, index = leaf, 0, self.size
        while (self.size >> level) & 1:
            node = node_hash(self.peaks.pop(), node)
            level, index = level + 1, index >> 1
            made.append(((level, index), node))
        self.peaks.append(node)
        self.size += 1
        return made

    def add_data(self, data: bytes) -> None:
        """Add a leaf by its data, keeping nothing but the peaks (the verifier's hot loop)."""
        sha = hashlib.sha256
        node = sha(b"\x00" + data).digest()
        size = self.size
        peaks = self.peaks
        while size & 1:
            node = sha(b"\x01" + peaks.pop() + node).digest()
            size >>= 1
        peaks.append(node)
        self.size += 1

    def add_data_nodes(self, data: bytes, out: Callable[[bytes], None]) -> None:
        """Like :meth:`add_data`, passing every node it completes to ``out``, in
        completion order (the order of :func:`node_id`): the verifier compares
        them with the stored tree."""
        sha = hashlib.sha256
        node = sha(b"\x00" + data).digest()
        out(node)
        size = self.size
        peaks = self.peaks
        while size & 1:
            node = sha(b"\x01" + peaks.pop() + node).digest()
            out(node)
            size >>= 1
        peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        return fold(self.peaks) if self.peaks else EMPTY_ROOT


class ProofError(ValueError):
    """A Merkle proof that does not verify."""


def _check32(*hashes: bytes) -> None:
    for h in hashes:
        if len(h) != 32:
            raise ProofError("a hash is not 32 bytes")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises ProofError unless the proof is valid."""
    _check32(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless the proof is valid."""
    # The order of these cases follows the test vectors (transparency-dev/merkle).
    if size1 == 0:
        raise ProofError("no consistency proof can start from an empty tree")
    if size1 > size2:
        raise ProofError(f"no consistency proof can go from size {size1} to {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError("equal sizes with different roots: the histories differ")
        return
    _check32(root1, root2, *proof)
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not reproduce the old root")
    if sr != root2:
        raise ProofError("consistency proof does not reproduce the new root")

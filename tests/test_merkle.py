"""RFC 6962 Merkle trees against the transparency-dev vectors, and our proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import merkle
from tests.conftest import VECTORS

INCLUSION = sorted((VECTORS / "rfc6962" / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "rfc6962" / "consistency").rglob("*.json"))
KNOWN_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]


def b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_probe_is_present() -> None:
    # The issue counts 86 + 98 probes; the vectors directory holds 98 + 98 files. All are run.
    assert len(INCLUSION) >= 86
    assert len(CONSISTENCY) >= 98


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [b64(p) for p in case["proof"] or []]
    try:
        merkle.verify_inclusion(case["leafIdx"], case["treeSize"], b64(case["leafHash"]), proof, b64(case["root"]))
        verdict = "accepted"
    except merkle.ProofError:
        verdict = "rejected"
    assert verdict == ("rejected" if case["wantErr"] else "accepted"), case["desc"]


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [b64(p) for p in case["proof"] or []]
    try:
        merkle.verify_consistency(case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof)
        verdict = "accepted"
    except merkle.ProofError:
        verdict = "rejected"
    assert verdict == ("rejected" if case["wantErr"] else "accepted"), case["desc"]


def test_known_roots() -> None:
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in KNOWN_LEAVES]
    assert merkle.root_of(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root_of(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.root_of([]) == merkle.EMPTY_ROOT


def _tree(leaves: list[bytes]) -> merkle.Tree:
    builder, nodes = merkle.RootBuilder(), {}
    for leaf in leaves:
        nodes.update(dict(builder.add(leaf)))
    return merkle.Tree(lambda wanted: {n: nodes[n] for n in wanted})


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's recursive MTH, straight from the definition."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


@given(st.integers(1, 300), st.data())
def test_our_proofs_verify_and_roots_match_the_definition(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = _tree(leaves)
    root = tree.root(size)
    assert root == _reference_root(leaves) == merkle.root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    merkle.verify_inclusion(index, size, leaves[index], tree.inclusion_proof(index, size), root)
    old = data.draw(st.integers(1, size))
    merkle.verify_consistency(old, size, tree.root(old), root, tree.consistency_proof(old, size))


def test_a_proof_for_another_leaf_fails() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(10)]
    tree = _tree(leaves)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(3, 10, leaves[4], tree.inclusion_proof(3, 10), tree.root(10))


def test_node_ids_number_nodes_in_the_order_appends_complete_them() -> None:
    # The store appends each command's new nodes at the end of one index; that
    # only holds if node_id counts 0, 1, 2, ... as RootBuilder completes nodes.
    builder, ids = merkle.RootBuilder(), []
    for i in range(1500):
        ids += [merkle.node_id(level, index) for (level, index), _ in builder.add(merkle.leaf_hash(bytes([i % 256])))]
        assert len(ids) == merkle.node_count(i + 1)
    assert ids == list(range(len(ids)))


@given(st.integers(min_value=0, max_value=2**40))
def test_size_of_inverts_node_count(size: int) -> None:
    assert merkle.size_of(merkle.node_count(size)) == size


def test_a_node_count_no_tree_has_is_refused() -> None:
    # 2n - popcount(n) skips some numbers (e.g. no tree has exactly 2 nodes).
    assert merkle.size_of(2) is None


def test_adding_leaf_data_gives_the_same_roots_as_adding_leaf_hashes() -> None:
    by_hash, by_data = merkle.RootBuilder(), merkle.RootBuilder()
    for i in range(300):
        data = i.to_bytes(2, "big")
        by_hash.add(merkle.leaf_hash(data))
        by_data.add_data(data)
        assert (by_data.size, by_data.root()) == (by_hash.size, by_hash.root())

"""The transparency log over the ledger: tree, checkpoints and proofs.

The log is every record in position order; leaf *i* is record *i*'s
canonical bytes.  Complete-subtree hashes are stored as records are written
(``store.append_to_tree``), so roots and proofs cost O(log n) reads.  A
checkpoint (a C2SP signed note by the ledger's log key, key name = origin)
is stored per tree size: after every writing command when the log key is
configured, and on demand (``ledger checkpoint``).
"""

from __future__ import annotations

import base64
import bisect
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from ledger import merkle, note
from ledger.errors import InvalidInputError, NotFoundError, StoreError, UncoveredError
from ledger.keys import Signer
from ledger.store import checkpoint_table, cosignature_table, tree_nodes, tree_size


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": base64.b64encode(self.root).decode("ascii"), "note": self.note}


def write_checkpoint(session: Any, origin: str, size: int, root: bytes, signer: Signer) -> str:
    """Sign and store the checkpoint for ``size`` (once per size)."""
    existing = session.execute(select(checkpoint_table.c.note).where(checkpoint_table.c.size == size)).scalar()
    if existing is not None:
        return str(existing)
    text = note.sign_checkpoint(note.Checkpoint(origin, size, root), signer).render()
    session.execute(insert(checkpoint_table).values(size=size, root=root, note=text))
    return text


class PackedRoots:
    """size -> 32-byte root, packed: a ledger signs a checkpoint every few records for
    decades (one a meeting: some 28,000 at a million records), and a dict of them cost
    ~190 bytes each in verify's memory; here 40."""

    def __init__(self) -> None:
        self.sizes = array("Q")
        self.roots = bytearray()

    def __setitem__(self, size: int, root: bytes) -> None:
        at = bisect.bisect_left(self.sizes, size)
        if at < len(self.sizes) and self.sizes[at] == size:
            self.roots[32 * at:32 * at + 32] = root
            return
        self.sizes.insert(at, size)
        self.roots[32 * at:32 * at] = root

    def get(self, size: int, default: bytes | None = None) -> bytes | None:
        at = bisect.bisect_left(self.sizes, size)
        if at < len(self.sizes) and self.sizes[at] == size:
            return bytes(self.roots[32 * at:32 * at + 32])
        return default

    def __contains__(self, size: object) -> bool:
        return isinstance(size, int) and self.get(size) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(self.sizes)

    def __len__(self) -> int:
        return len(self.sizes)


class TransparencyLog:
    """Read access to the tree and checkpoints of one ledger."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def _session(self) -> Any:
        return self.ledger.recorder.transaction(commit=False)

    def tree(self) -> merkle.Tree:
        def fetch(wanted: Any) -> dict[tuple[int, int], bytes]:
            with self._session() as session:
                return tree_nodes(session, wanted)

        return merkle.Tree(fetch)

    def size(self) -> int:
        with self._session() as session:
            return tree_size(session)

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        """The checkpoint of a size, or the latest."""
        query = select(checkpoint_table.c.size, checkpoint_table.c.root, checkpoint_table.c.note)
        query = (query.where(checkpoint_table.c.size == size) if size is not None
                 else query.order_by(checkpoint_table.c.size.desc()).limit(1))
        with self._session() as session:
            row = session.execute(query).first()
        if row is None:
            raise NotFoundError(f"there is no checkpoint of size {size}" if size is not None
                                else "there is no checkpoint yet (run 'ledger checkpoint --log-key FILE')")
        with self._session() as session:
            lines = session.execute(
                select(cosignature_table.c.line).where(cosignature_table.c.size == int(row[0]))
                .order_by(cosignature_table.c.witness)
            ).scalars().all()
        return StoredCheckpoint(int(row[0]), bytes(row[1]), str(row[2]) + "".join(lines))

    def add_cosignatures(self, cosigned: str) -> list[str]:
        """Store the witness lines of a cosigned copy of one of our checkpoints."""
        try:
            signed = note.parse(cosigned)
            checkpoint = note.parse_checkpoint(signed.text)
        except note.NoteError as exc:
            raise StoreError(f"not a cosigned checkpoint: {exc}") from None
        ours = self.checkpoint(checkpoint.size)
        if note.parse(ours.note).text != signed.text:
            raise StoreError(f"that is not this ledger's checkpoint of size {checkpoint.size}")
        known = {s.line() for s in note.parse(ours.note).signatures}
        added = []
        with self.ledger.recorder.transaction(commit=True) as session:
            for signature in signed.signatures:
                if signature.line() in known or signature.name == checkpoint.origin:
                    continue
                session.execute(insert(cosignature_table).values(
                    size=checkpoint.size, witness=signature.name, line=signature.line()))
                added.append(signature.name)
        return added

    def cosigned_sizes(self) -> list[int]:
        """Sizes of the checkpoints that carry witness cosignatures, newest first."""
        with self._session() as session:
            rows = session.execute(select(cosignature_table.c.size).distinct()
                                   .order_by(cosignature_table.c.size.desc())).scalars().all()
        return [int(size) for size in rows]

    def checkpoints(self) -> PackedRoots:
        """Every stored checkpoint's size and root (for verification)."""
        roots = PackedRoots()
        with self._session() as session:
            for size, root in session.execute(select(checkpoint_table.c.size, checkpoint_table.c.root)
                                              .order_by(checkpoint_table.c.size)):
                roots[int(size)] = bytes(root)
        return roots

    def leaf_index(self, ref: str) -> int:
        """A log position from a position number or an event hash."""
        ref = ref.strip().lower()
        if ref.isdigit():
            return int(ref)
        return int(self.ledger.position_of(ref))

    def inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        checkpoint = self.checkpoint(size)
        if not 0 <= index < checkpoint.size:
            raise NotFoundError(f"position {index} is not covered by the checkpoint of size {checkpoint.size}")
        record = self.ledger.record_at(index)
        proof = self.tree().inclusion_proof(index, checkpoint.size)
        return {
            "type": "inclusion", "index": index, "size": checkpoint.size,
            "event_hash": record.event_hash,
            "leaf_hash": base64.b64encode(merkle.leaf_hash(record.raw)).decode("ascii"),
            "hashes": [base64.b64encode(h).decode("ascii") for h in proof],
            "checkpoint": checkpoint.note,
        }

    def consistency(self, size1: int, size2: int | None = None) -> dict[str, Any]:
        if size2 is not None and size1 > size2:
            raise InvalidInputError(f"a log only grows: prove consistency from the older size to the newer one "
                                    f"('ledger prove consistency {size2} {size1}')")
        new = self.checkpoint(size2)
        if size1 > new.size:
            raise InvalidInputError(f"the latest checkpoint is of size {new.size}, older than {size1}")
        old = self.checkpoint(size1)
        proof = self.tree().consistency_proof(old.size, new.size)
        return {
            "type": "consistency", "size1": old.size, "size2": new.size,
            "hashes": [base64.b64encode(h).decode("ascii") for h in proof],
            "checkpoint1": old.note, "checkpoint": new.note,
        }


def rebuild_tree(ledger: Any) -> int:
    """Bring the stored tree up to the log (ledgers written before it was stored this way)."""
    from ledger.store import catch_up_tree, last_position

    with ledger.recorder.transaction(commit=True) as session:
        return catch_up_tree(session, last_position(session) + 1)


PROOF_FIELDS = {
    "inclusion": ("index", "size", "leaf_hash", "hashes", "checkpoint"),
    "consistency": ("size1", "size2", "hashes", "checkpoint1", "checkpoint"),
}


def verify_proof(proof: dict[str, Any], log_name: str, log_public: bytes) -> str:
    """Check a proof document (from ``ledger prove``); return a one-line summary or raise."""
    if not isinstance(proof, dict):
        raise InvalidInputError("that is not a proof from 'ledger prove' (expected a JSON object)")
    wanted = {"inclusion": PROOF_FIELDS["inclusion"], "consistency": PROOF_FIELDS["consistency"]}.get(
        str(proof.get("type")))
    if wanted is None:
        raise InvalidInputError("that is not a proof from 'ledger prove': its \"type\" must be "
                                "\"inclusion\" or \"consistency\"")
    missing = [name for name in wanted if name not in proof]
    if missing:
        raise InvalidInputError(f"the {proof['type']} proof lacks {', '.join(repr(m) for m in missing)}")
    try:
        signed = note.parse(str(proof["checkpoint"]))
        note.verify(signed, log_name, log_public)
        checkpoint = note.parse_checkpoint(signed.text)
        hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
        if proof.get("type") == "inclusion":
            if int(proof["size"]) != checkpoint.size:
                raise merkle.ProofError("the proof's size is not the checkpoint's size")
            leaf = base64.b64decode(proof["leaf_hash"], validate=True)
            merkle.verify_inclusion(int(proof["index"]), checkpoint.size, leaf, hashes, checkpoint.root)
            return f"record {proof['index']} is included in the log of size {checkpoint.size} ({log_name})"
        if proof.get("type") == "consistency":
            old_signed = note.parse(str(proof["checkpoint1"]))
            note.verify(old_signed, log_name, log_public)
            old = note.parse_checkpoint(old_signed.text)
            if (old.size, checkpoint.size) != (int(proof["size1"]), int(proof["size2"])):
                raise merkle.ProofError("the proof's sizes are not the checkpoints' sizes")
            merkle.verify_consistency(old.size, checkpoint.size, old.root, checkpoint.root, hashes)
            return f"the log of size {checkpoint.size} extends the log of size {old.size} ({log_name})"
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"proof does not verify: {exc}") from None
    raise StoreError("proof does not verify: unknown proof type")


__all__ = ["StoredCheckpoint", "TransparencyLog", "rebuild_tree", "verify_proof", "write_checkpoint"]


def covering_checkpoint(ledger: Any, size: int | None = None) -> StoredCheckpoint:
    """The checkpoint of exactly ``size`` records (default: every record).

    What a bundle or a site says it proves must be all it shows, so one is
    needed of exactly that size.  For the whole log, one is signed first when
    the keeper's log key is at hand (``ledger.log_key``); otherwise the
    refusal says how many records are uncovered and what to run.
    """
    log = TransparencyLog(ledger)
    total = ledger.size()
    wanted = total if size is None else size
    if not 1 <= wanted <= total:
        raise NotFoundError(f"the ledger holds {total} records; there is no size {wanted} to cover")
    try:
        return log.checkpoint(wanted)
    except NotFoundError:
        pass
    if wanted == total and ledger.log_key is not None:
        ledger.checkpoint()
        return log.checkpoint(wanted)
    if wanted < total:
        sizes = sorted(s for s in log.checkpoints() if s < wanted)
        older = f"; the nearest older checkpoint is of size {sizes[-1]}" if sizes else ""
        raise UncoveredError(f"there is no checkpoint of exactly {wanted} records{older}")
    try:
        latest = log.checkpoint().size
    except NotFoundError:
        latest = 0
    uncovered = total - latest
    what = ("the ledger has no checkpoint yet" if not latest else
            f"{uncovered} {'record is' if uncovered == 1 else 'records are'} newer than the latest checkpoint "
            f"(size {latest})")
    raise UncoveredError(f"{what}; sign one first: ledger checkpoint --log-key FILE "
                         f"(or give --log-key FILE here)")

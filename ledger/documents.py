"""The document store: the files whose SHA-256 digests records cite, kept beside the ledger.

Agendas, minutes and evidence are cited in records by digest only: the record
commits to the document without containing it.  A partnership may also keep
the file itself here, in a content-addressed table of the ledger's database
(``ledger_documents``, keyed by digest), so that ``ledger document get DIGEST``
returns it and the published site can link it.

The store is *beside* the log, not part of it: it is not append-only (a
document may have to be erased, say under a retention rule), and a missing
document is not a finding.  A kept document whose bytes no longer hash to its
digest is one: ``ledger verify`` checks every kept document.

Kept documents are public: ``ledger publish`` copies those that published
records cite into the site.  Confidential material does not belong here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInputError, NotFoundError

MAX_DOCUMENT = 50 * 1024 * 1024  # 50 MiB: minutes and reports, not video archives


@dataclass(frozen=True)
class Document:
    digest: str
    name: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def read_document(path: str) -> Document:
    """A file given on the command line as a document: its bytes, name and digest."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_DOCUMENT:
            raise InvalidInputError(f"{path} is larger than {MAX_DOCUMENT // (1024 * 1024)} MiB")
        content = file.read_bytes()
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not a document") from None
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    return Document(hashlib.sha256(content).hexdigest(), file.name, content)


def keep(session: Any, documents: list[Document], kept_at: str) -> None:
    """Store documents in the writing transaction (a digest already kept is left as it is:
    the same digest is the same bytes)."""
    from sqlalchemy import insert, select

    from ledger.store import documents_table

    for document in documents:
        found = session.execute(select(documents_table.c.digest).where(
            documents_table.c.digest == document.digest)).first()
        if found is None:
            session.execute(insert(documents_table).values(
                digest=document.digest, name=document.name, size=document.size, content=document.content,
                kept_at=kept_at))


def get(ledger: Any, digest: str) -> Document:
    """A kept document by its digest (NotFoundError when it is not kept)."""
    from sqlalchemy import select

    from ledger.store import documents_table

    wanted = digest.strip().lower()
    if len(wanted) != 64 or any(c not in "0123456789abcdef" for c in wanted):
        raise InvalidInputError(f"{digest!r} is not a SHA-256 digest (64 hex digits)")
    if not ledger.recorder.has_table(documents_table.name):
        raise NotFoundError(f"no document with digest {wanted[:12]}… is kept in this ledger")
    with ledger.recorder.transaction(commit=False) as session:
        row = session.execute(select(documents_table.c.name, documents_table.c.content).where(
            documents_table.c.digest == wanted)).first()
    if row is None:
        raise NotFoundError(f"no document with digest {wanted[:12]}… is kept in this ledger")
    return Document(wanted, str(row[0]), bytes(row[1]))


def listing(ledger: Any) -> list[dict[str, Any]]:
    """Every kept document: digest, name, size, when kept (no content)."""
    from sqlalchemy import select

    from ledger.store import documents_table

    if not ledger.recorder.has_table(documents_table.name):
        return []
    t = documents_table
    with ledger.recorder.transaction(commit=False) as session:
        rows = session.execute(select(t.c.digest, t.c.name, t.c.size, t.c.kept_at).order_by(t.c.kept_at)).all()
    return [{"digest": d, "name": n, "size": int(s), "kept_at": k} for d, n, s, k in rows]


def mismatches(conn: Any) -> list[str]:
    """Kept documents whose bytes do not hash to their digest (for ``ledger verify``)."""
    from sqlalchemy import select

    from ledger.store import documents_table

    if not conn.dialect.has_table(conn, documents_table.name):
        return []
    out: list[str] = []
    t = documents_table
    last = ""
    while True:  # page by digest: documents can be large, so few at a time
        rows = conn.execute(select(t.c.digest, t.c.content).where(t.c.digest > last)
                            .order_by(t.c.digest).limit(16)).all()
        if not rows:
            return out
        for digest, content in rows:
            if hashlib.sha256(bytes(content)).hexdigest() != digest:
                out.append(f"the kept document {digest[:12]}… no longer matches its digest: it was altered")
        last = rows[-1][0]

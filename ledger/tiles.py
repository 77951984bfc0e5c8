"""C2SP tlog-tiles v0.1.0: the log as Merkle tiles and entry bundles.

A tile at level ``L``, index ``N`` holds up to 256 consecutive Merkle tree
hashes of height ``8L``: hash ``i`` is ``MTH(D[(N*256+i) * 256**L : (N*256+i+1)
* 256**L])``, which is exactly the stored complete-subtree node ``(8L,
N*256+i)`` (see :mod:`ledger.merkle`), so tiles are read from the stored tree
and never rebuilt.  An entry bundle holds the records themselves (their
canonical bytes), each prefixed by its length as a big-endian uint16: this is
why a record may not exceed 65,535 bytes (``record.MAX_RECORD_BYTES``).

Tiles exist only up to a size some checkpoint signed: a reader checks what it
fetches against a checkpoint, so serving beyond the latest one helps nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ledger.errors import NotFoundError
from ledger.store import tree_nodes

WIDTH = 256
HASH_SIZE = 32
# <L>/<N>[.p/<W>] or entries/<N>[.p/<W>], N in x-prefixed 3-digit groups.
_PATH = re.compile(r"(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
                   r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?")


def encode_index(index: int) -> str:
    """``1234067`` -> ``x001/x234/067`` (the spec's zero-padded path elements)."""
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """The path of a tile (``level`` an int) or entry bundle (``"entries"``) below ``tile/``."""
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """(level, or None for an entry bundle; index; width) of a path below ``tile/``."""
    found = _PATH.fullmatch(path)
    if not found:
        raise NotFoundError(f"no such tile: {path}")
    parts = found["index"].replace("x", "").split("/")
    if len(parts) > 1 and parts[0] == "000":
        raise NotFoundError(f"no such tile: {path} (no leading zero groups)")
    width = int(found["width"]) if found["width"] else WIDTH
    if width > 255 and found["width"]:
        raise NotFoundError(f"no such tile: {path} (a partial tile has 1 to 255 entries)")
    level = None if found["level"] == "entries" else int(found["level"])
    if level is not None and level > 63:
        raise NotFoundError(f"no such tile: {path}")
    return level, int("".join(parts)), width


def _require_within(level: int, index: int, width: int, size: int) -> None:
    available = size // (WIDTH ** level) - index * WIDTH
    if width > available or available <= 0:
        raise NotFoundError(f"the tree of the latest checkpoint (size {size}) has no such tile")


def tile(session: Any, level: int, index: int, width: int, size: int) -> bytes:
    """The bytes of a Merkle tile for a tree of ``size`` leaves (width hashes, 32 bytes each)."""
    _require_within(level, index, width, size)
    wanted = [(8 * level, index * WIDTH + i) for i in range(width)]
    found = tree_nodes(session, wanted)
    if len(found) != width:
        raise NotFoundError("the stored tree is missing nodes of that tile (run 'ledger checkpoint')")
    return b"".join(found[node] for node in wanted)


def entry_bundle(ledger: Any, index: int, width: int, size: int) -> bytes:
    """The bytes of an entry bundle: each record's canonical bytes after a uint16 length."""
    _require_within(0, index, width, size)
    records = ledger.read(index * WIDTH, width, check=False)
    if len(records) != width:
        raise NotFoundError("the log is missing records of that bundle")
    return b"".join(len(record.raw).to_bytes(2, "big") + record.raw for _position, record in records)


def tiles_of(size: int) -> Iterator[tuple[int | str, int, int]]:
    """Every tile and entry bundle of a tree of ``size`` leaves: (level or "entries", index, width)."""
    level = 0
    while (count := size // (WIDTH ** level)) > 0:
        full, partial = divmod(count, WIDTH)
        for index in range(full):
            yield level, index, WIDTH
            if level == 0:
                yield "entries", index, WIDTH
        if partial:
            yield level, full, partial
            if level == 0:
                yield "entries", full, partial
        level += 1


def split_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle (used by the readers and tests of this module)."""
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise NotFoundError("truncated entry bundle")
        length = int.from_bytes(data[offset:offset + 2], "big")
        entries.append(data[offset + 2:offset + 2 + length])
        if offset + 2 + length > len(data):
            raise NotFoundError("truncated entry bundle")
        offset += 2 + length
    return entries


def write_tree(ledger: Any, directory: Any, size: int, checkpoint_note: str) -> int:
    """Write ``checkpoint`` and every tile and entry bundle of a tree of ``size`` leaves
    under ``directory`` (a pathlib.Path), so that any static web host serves a
    tlog-tiles log; return how many files were written."""
    written = 1
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "checkpoint").write_text(checkpoint_note, encoding="utf-8")
    with ledger.recorder.transaction(commit=False) as session:
        for level, index, width in tiles_of(size):
            path = directory / tile_path(level, index, width)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = (entry_bundle(ledger, index, width, size) if level == "entries"
                    else tile(session, int(level), index, width, size))
            path.write_bytes(data)
            written += 1
    return written

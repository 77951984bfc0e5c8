"""C2SP tlog-witness v1.0.0 over HTTP: the witness's server and the log's client.

The witness (``ledger witness serve``) answers ``POST /add-checkpoint``: an
``old N`` line, up to 63 base64 consistency-proof lines, an empty line, then a
signed checkpoint.  It cosigns only a checkpoint signed by the log key it
trusts and consistent with the last one it cosigned, using the same state
directory as ``ledger witness cosign`` (so a witness can move from files to
the network and back).  The statuses are the spec's: 404 unknown origin, 403
no valid log signature, 400 old size above the new one, 409 (with the
witness's size, ``text/x.tlog.size``) when the old size is not its latest or
the roots differ at the same size, 422 when the proof does not verify.

The log's side (:class:`WitnessClient`) sends the latest checkpoint with a
consistency proof from the size that witness last cosigned, learning that size
from a 409 when it does not know it, and stores the returned cosignature.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ledger import merkle, note
from ledger.keys import Signer, parse_verifier_key
from ledger.witness import WitnessState

SIZE_TYPE = "text/x.tlog.size"
MAX_REQUEST = 64 * 1024


class WitnessService:
    """One witness: its key, its name, the log keys it trusts, its state directory."""

    def __init__(self, name: str, key: Signer, state: Path, trusted: list[str]) -> None:
        self.name, self.key, self.state = name, key, WitnessState(state)
        self.trusted: dict[str, bytes] = {}
        for vkey in trusted:
            origin, _kid, public = parse_verifier_key(vkey)
            self.state.trusted_key(origin, vkey)  # remembered like 'witness cosign --trust'
            self.trusted[origin] = public
        self.lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> tuple[int, str, str]:
        """(status, content type, body) for one add-checkpoint request."""
        try:
            text = body.decode("utf-8")
            head, checkpoint_text = text.split("\n\n", 1)
            lines = head.split("\n")
            if not lines[0].startswith("old ") or len(lines) > 64:
                raise ValueError("the first line must be 'old N'")
            old_text = lines[0][4:]
            if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
                raise ValueError("the old size must be a decimal without leading zeroes")
            old_size = int(old_text)
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            if any(len(h) != 32 for h in proof):
                raise ValueError("a proof line is not a 32-byte hash")
            signed = note.parse(checkpoint_text)
            checkpoint = note.parse_checkpoint(signed.text)
        except (UnicodeDecodeError, ValueError, binascii.Error, note.NoteError) as exc:
            return 400, "text/plain", f"malformed request: {exc}\n"
        public = self.trusted.get(checkpoint.origin)
        if public is None:
            return 404, "text/plain", "unknown log origin\n"
        try:
            note.verify(signed, checkpoint.origin, public)
        except note.NoteError:
            return 403, "text/plain", "no valid signature by the log's key\n"
        if old_size > checkpoint.size:
            return 400, "text/plain", "old size is larger than the checkpoint's size\n"
        with self.lock:
            previous_text = self.state.last(checkpoint.origin)
            previous = note.parse_checkpoint(note.parse(previous_text).text) if previous_text else None
            latest = previous.size if previous else 0
            if old_size != latest:
                return 409, SIZE_TYPE, f"{latest}\n"
            if previous is not None and previous.size == checkpoint.size:
                if previous.root != checkpoint.root:
                    self.state.keep_evidence(checkpoint.origin, previous_text or "", checkpoint_text,
                                             "two different roots for the same size")
                    return 409, SIZE_TYPE, f"{latest}\n"
            elif previous is not None:
                try:
                    merkle.verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof)
                except merkle.ProofError:
                    self.state.keep_evidence(checkpoint.origin, previous_text or "", checkpoint_text,
                                             "consistency proof does not verify")
                    return 422, "text/plain", "the consistency proof does not verify\n"
            elif proof:
                return 422, "text/plain", "the proof must be empty when the old size is zero\n"
            cosigned = note.cosign(signed, self.name, self.key, int(time.time()))
            self.state.remember(checkpoint.origin, cosigned.render())  # persisted before answering
        mine = [s for s in cosigned.signatures if s.name == self.name]
        return 200, "text/plain; charset=utf-8", "".join(s.line() for s in mine[-1:])


def create_witness_app(service: WitnessService) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST:
                return Response("request too large\n", status_code=413, media_type="text/plain")
        status, media, text = service.add_checkpoint(body)
        # Exactly the spec's type (text/x.tlog.size): Starlette would add a charset to a media_type.
        return Response(text.encode("utf-8"), status_code=status, headers={"Content-Type": media})

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])


class WitnessClient:
    """The log's side: ask one witness to cosign the latest checkpoint."""

    def __init__(self, url: str, vkey: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/add-checkpoint"
        self.name, _type, self.public = note.parse_vkey(vkey)  # a cosigner's key (type 0x04)
        self.timeout = timeout
        self.known_size = 0

    def request(self, ledger: Any) -> str:
        """Send the latest checkpoint (from the size this witness last cosigned), store
        the cosignature in the ledger, return the cosigned note."""
        from ledger.errors import RefusedError
        from ledger.tlog import TransparencyLog

        log = TransparencyLog(ledger)
        latest = log.checkpoint()
        for _attempt in range(3):
            old = min(self.known_size, latest.size)
            proof = log.tree().consistency_proof(old, latest.size) if 0 < old < latest.size else []
            body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + "\n"
            own = note.parse(latest.note)
            body += note.Note(own.text, tuple(s for s in own.signatures if s.name == own.text.split("\n")[0])).render()
            status, text = _post(self.url, body.encode("utf-8"), self.timeout)
            if status == 409 and text.strip().isdigit():
                self.known_size = int(text.strip())
                if self.known_size > latest.size:
                    raise RefusedError(f"witness {self.name} has cosigned size {self.known_size}, beyond this "
                                       f"log's latest checkpoint ({latest.size}): a fork or another log")
                continue
            if status != 200:
                raise RefusedError(f"witness {self.name} refused the checkpoint ({status}): {text.strip()[:200]}")
            cosigned = latest.note + text  # a note ends with a newline; the witness sent whole lines
            lines = note.parse(cosigned)
            for signature in lines.signatures:
                if signature.name == self.name:
                    note.verify_cosignature(note.Note(lines.text, (signature,)), self.name, self.public)
            log.add_cosignatures(cosigned)
            self.known_size = latest.size
            return cosigned
        raise RefusedError(f"witness {self.name} kept answering with another size")


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # an operator's URL
            return int(answer.status), answer.read(MAX_REQUEST).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(MAX_REQUEST).decode("utf-8", "replace")

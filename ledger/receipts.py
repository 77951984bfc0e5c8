"""Receipt codes: how someone who gave confidential feedback follows it up, anonymously.

A receipt code is 25 random decimal digits (83 bits) in groups of five, shown
once to the submitter.  The ledger never stores it.  From the code, scrypt
(n=2**15, r=8, p=1) with a salt naming the ledger and the channel derives two
things, each under its own label:

* ``lookup``: 32 bytes, stored (hex) in the submission's record, so the code
  finds its submission with one derivation;
* ``reply``: 32 bytes used as an age X25519 identity; its recipient
  (``reply_to``, age1...) is stored in the record, and every reply is sealed to
  it as well as to the channel's recipients, so the code alone opens the
  replies (``ledger feedback status --receipt CODE``).

The identity is an ordinary age identity (``AGE-SECRET-KEY-1`` + bech32 of the
32 bytes, as age-keygen writes them): any age implementation opens the replies.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ledger.errors import InvalidInputError

DIGITS = 25
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def new_code() -> str:
    from ledger import determinism

    recorded = determinism.current()
    given = recorded.take_code() if recorded is not None else None
    # Given back: the code the prepared run drew (ledger/determinism.py); else a new one.
    digits = normalise(given) if given is not None else "".join(str(secrets.randbelow(10)) for _ in range(DIGITS))
    code = " ".join(digits[i:i + 5] for i in range(0, DIGITS, 5))
    if recorded is not None:
        recorded.made_codes.append(code)
    return code


def normalise(code: str) -> str:
    digits = "".join(c for c in code if c.isdigit())
    if len(digits) != DIGITS or len(digits) != len("".join(c for c in code if not c.isspace() and c != "-")):
        raise InvalidInputError(f"a receipt code is {DIGITS} digits (spaces or dashes between groups are fine)")
    return digits


def _derive(code: str, origin: str, channel: str, label: str) -> bytes:
    salt = f"covenant-ledger receipt {label}\n{origin}\n{channel}".encode()
    return hashlib.scrypt(normalise(code).encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **SCRYPT)


def lookup(code: str, origin: str, channel: str) -> str:
    """The stored value that lets the code find its submission (hex)."""
    return _derive(code, origin, channel, "lookup").hex()


def reply_identity(code: str, origin: str, channel: str) -> Any:
    """The age identity the code holds, whose recipient replies are sealed to."""
    import pyrage

    return pyrage.x25519.Identity.from_str(age_secret_key(_derive(code, origin, channel, "reply")))


# --- bech32 (BIP 173), the text form of age keys ------------------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


def _bech32(hrp: str, data: bytes) -> str:
    acc, bits, five = 0, 0, []
    for byte in data:  # 8-bit groups to 5-bit groups
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _polymod(expanded + five + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in five + checksum)


def age_secret_key(secret: bytes) -> str:
    """32 bytes as an age X25519 identity string (AGE-SECRET-KEY-1...)."""
    return _bech32("age-secret-key-", secret).upper()

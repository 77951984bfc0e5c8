"""Opening what is sealed, for the people it is sealed to: a confidential grievance's
complainant and grounds, read with a neutral's age identity (never stored opened)."""

from __future__ import annotations

import json
from typing import Any

from ledger import sealed
from ledger.errors import NotFoundError


def grievance(ledger: Any, dispute: Any, identity: str | None) -> dict[str, Any]:
    """``{"complainant", "grounds"}`` as they are shown: the record's own for an open
    grievance; opened with ``identity`` for a sealed one, else marked ``[sealed …]``."""
    if dispute.sealed is None:
        return {"complainant": dispute.complainant, "grounds": dispute.grounds}
    digest = dispute.sealed["sealed"]["sha256"]
    hidden = {"complainant": {"kind": "confidential"}}
    if identity is None:
        return {**hidden, "grounds": f"[sealed {digest[:12]}…: open it with --identity]"}
    try:
        opened = json.loads(sealed.open_sealed(sealed.get(ledger, digest), identity))
    except NotFoundError as exc:
        return {**hidden, "grounds": f"[sealed {digest[:12]}…: {exc}]"}
    return {"complainant": opened["complainant"], "grounds": opened["grounds"]}

"""A separate writer process for the concurrency tests.

Usage: python -m tests.writer_process DB_URL KEY_FILE COUNT TAG
Registers COUNT fresh keys, each as its own command, and prints one JSON line:
{"ok": [key ids written], "conflicts": n}.
"""

from __future__ import annotations

import json
import sys

from ledger import ConflictError, Ledger, Signer, load_signer


def main() -> None:
    url, key_file, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    signer = load_signer(key_file)
    ledger = Ledger(url)
    ok, conflicts = [], 0
    for i in range(count):
        new = Signer.generate()
        try:
            ledger.register_key(signer, new.public_b64, f"{tag}-{i}", ["member"])
            ok.append(new.key_id)
        except ConflictError:
            conflicts += 1
    ledger.close()
    print(json.dumps({"ok": ok, "conflicts": conflicts}))


if __name__ == "__main__":
    main()

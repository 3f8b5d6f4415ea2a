"""The one-time setup code that lets the first person create the first user.

`leadflow serve` prints it; it lives in the data directory (mode 600) until it is used,
so nobody else on the network can claim a fresh server first.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

FILE_NAME = "setup-code"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: it is read off a terminal


def code_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def ensure_setup_code(data_dir: Path) -> str:
    """The current setup code, created on first call (several processes agree on one)."""
    path = code_path(data_dir)
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        code = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
        tmp = data_dir / f".{FILE_NAME}.{os.getpid()}.tmp"
        tmp.write_text(code + "\n")
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # exactly one writer wins; the others read its code
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def consume_setup_code(data_dir: Path, given: str) -> bool:
    """True once for the right code: the file is renamed away atomically, so two people
    sending it at the same moment cannot both succeed."""
    path = code_path(data_dir)
    try:
        expected = path.read_text().strip()
    except FileNotFoundError:
        return False
    normalized = given.strip().upper()
    if not expected or not hmac.compare_digest(expected.encode(), normalized.encode()):
        return False
    claimed = data_dir / f".{FILE_NAME}.used.{secrets.token_hex(8)}"
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return False
    claimed.unlink()
    return True

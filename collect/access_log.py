"""The access log: who took identifiable data out of the system, when, and why.

Full-detail microdata (identifiers and exact quasi-identifiers) leave only by an admin's explicit choice; each
such download is appended as one JSON line to `access-log.jsonl` in the data folder (`SDG16_DATA_DIR`), created
0600 in a 0700 folder, and written to the `sdg16.access` logger. Nothing is ever removed from it.
"""

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from collect.database import data_dir

LOG_NAME = "access-log.jsonl"
log = logging.getLogger("sdg16.access")


def log_path() -> Path:
    return data_dir() / LOG_NAME


def record_full_download(user: str, reason: str, what: str, rows: int, channel: str) -> dict:
    """Append one entry (UTC time, user, channel, what, rows, reason); refuses an empty reason."""
    if not reason.strip():
        raise ValueError("indique el motivo / a reason is required for full-detail microdata")
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "channel": channel,
        "what": what,
        "rows": rows,
        "reason": reason.strip(),
    }
    folder = data_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(log_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    log.warning("full-detail microdata: %s by %s (%s), %d rows: %s", what, user, channel, rows, entry["reason"])
    return entry


def entries() -> list[dict]:
    """Every entry, oldest first (none when nothing was ever downloaded in full)."""
    if not log_path().exists():
        return []
    return [json.loads(line) for line in log_path().read_text(encoding="utf-8").splitlines() if line.strip()]

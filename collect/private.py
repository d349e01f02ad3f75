"""Files only the server's own user may read: the database, the dashboard's cache and snapshot, volunteers' QR codes.

They hold personal data (answers about violence, names, GPS points) or secrets (a QR code carries a volunteer's
token), so each is created 0600 in a folder made 0700, whatever the umask of the process that started the server.
Folders and files made by an older version with wider modes are narrowed when they are next opened or written.
"""

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """`path` as a folder (made with its parents if missing) that only this user can enter."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != FOLDER_MODE:
        path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing, 0600 in a private folder, before another library (SQLite, Parquet, PIL)
    writes it; an existing file keeps its content and gets mode 0600. Returns `path`."""
    private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    path.chmod(FILE_MODE)
    return path


def write_private(path: Path, content: bytes) -> Path:
    """Write `content` to `path` atomically (a crash leaves the previous file) as a 0600 file in a private folder."""
    partial = private_file(path.with_name(path.name + ".partial"))
    partial.write_bytes(content)
    os.replace(partial, path)
    return path

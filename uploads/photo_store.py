"""Where photo bytes live: a small interface, and a directory that implements it.

Why this shape:

- Photos are content addressed (`key` is the sha256 hex of the stored JPEG,
  `uploads.photos`), so a stored object never changes: `put` of an existing
  key does nothing, any number of outlets or uploads can share one object, and
  an S3-compatible bucket can implement the same four methods later.
- The directory layout `root/ab/cd/<key>.jpg` keeps each directory small (at
  most 65,536 leaf directories) whatever the number of photos.
- A write is atomic: a temporary file in the same directory, fsynced, then
  `os.replace`d onto the final name, so a reader or a crash never sees half a
  photo. The directory is fsynced as well so the rename survives a power cut.
- Keys and variants are validated before any path is built, so no input can
  name a file outside the root (`../`, absolute paths, NUL bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Final, Protocol

VARIANTS: Final[dict[str, str]] = {"original": ".jpg", "thumb": ".thumb.jpg"}
_KEY: Final = re.compile(r"[0-9a-f]{64}")
_FILE_MODE: Final = 0o644  # photos are public; a front-end server may serve the files directly


class PhotoStore(Protocol):
    """Photo bytes by (key, variant); variants are "original" and "thumb"."""

    def put(self, key: str, variant: str, data: bytes) -> None:
        """Store `data`; idempotent, since a key always names the same bytes."""

    def get(self, key: str, variant: str) -> bytes | None:
        """The stored bytes, or None when there are none."""

    def exists(self, key: str, variant: str) -> bool:
        """Whether the bytes are stored."""

    def delete(self, key: str, variant: str) -> None:
        """Remove the bytes if stored: only for a clean-up that knows no record names the key."""


def check_key(key: str, variant: str) -> None:
    """Raise ValueError unless `key` is 64 lowercase hex digits and `variant` a known one."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise ValueError("a photo key is 64 lowercase hexadecimal digits")
    if variant not in VARIANTS:
        raise ValueError(f"a photo variant is one of {', '.join(VARIANTS)}")


class DirectoryPhotoStore:
    """Photos as files under `root` (created on the first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str, variant: str) -> Path:
        """The file of (key, variant): `root/ab/cd/<key>.jpg` or `<key>.thumb.jpg`."""
        check_key(key, variant)
        return self.root / key[:2] / key[2:4] / f"{key}{VARIANTS[variant]}"

    def put(self, key: str, variant: str, data: bytes) -> None:
        """Write atomically unless already stored; an original must hash to its key."""
        target = self.path(key, variant)
        if variant == "original" and hashlib.sha256(data).hexdigest() != key:
            raise ValueError("an original photo is stored under the sha256 of its bytes")
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fchmod(out.fileno(), _FILE_MODE)
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_directory(target.parent)

    def get(self, key: str, variant: str) -> bytes | None:
        try:
            return self.path(key, variant).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str, variant: str) -> bool:
        return self.path(key, variant).is_file()

    def delete(self, key: str, variant: str) -> None:
        self.path(key, variant).unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Uploaded files kept on the server between a preview and its confirmation.

Each upload is a folder named by a random token, readable only by the process; its
manifest names the user it belongs to, each file's name and SHA-256, and what the
preview showed. A token of another user, an unknown or stale token, and files
changed since the upload are refused alike.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Largest file accepted, in bytes.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Largest a workbook (a zip) may unpack to: it is read whole into memory.
MAX_UNPACKED_BYTES = 20 * MAX_FILE_BYTES
#: Uploads older than this (seconds) are removed and can no longer be confirmed.
KEEP_SECONDS = 3600.0
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_MANIFEST = "manifest.json"
_CLAIMED = ".claimed"


class UploadTooLargeError(Exception):
    """A file is larger than :data:`MAX_FILE_BYTES`."""


class UploadUnpacksTooLargeError(UploadTooLargeError):
    """A workbook would unpack to more than :data:`MAX_UNPACKED_BYTES`."""


def check_unpacked(name: str, content: bytes) -> None:
    """Refuse a workbook (XLSX, a zip) whose parts unpack to more than
    :data:`MAX_UNPACKED_BYTES`, before anything reads it; anything that is not a
    zip is left to the reader.

    Raises:
        UploadUnpacksTooLargeError: naming the file.
    """
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return
    if unpacked > MAX_UNPACKED_BYTES:
        raise UploadUnpacksTooLargeError(safe_name(name))


class UploadGoneError(Exception):
    """The token names no upload of this user, or its files changed."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One kept file: the form field it came in, its path and digest."""

    field: str
    path: Path
    sha256: str


@dataclass(frozen=True, slots=True)
class Upload:
    """A kept upload: its token, owner, files and the digest of its preview."""

    token: str
    username: str
    files: tuple[StoredFile, ...]
    preview: str


def safe_name(name: str) -> str:
    """A file name fit for the disk and for messages: its last part, with letters,
    digits, ``._ -`` only, at most 100 characters."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    if len(cleaned) > 100:
        suffix = Path(cleaned).suffix[:10]
        cleaned = cleaned[: 100 - len(suffix)] + suffix
    return cleaned


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


class UploadStore:
    """Uploads under ``root``, one folder per token."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _folder(self, token: str) -> Path:
        if not _TOKEN.match(token):
            raise UploadGoneError(token)
        return self._root / token

    def sweep(self) -> None:
        """Remove uploads older than :data:`KEEP_SECONDS`."""
        if not self._root.is_dir():
            return
        limit = time.time() - KEEP_SECONDS
        for folder in self._root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)

    def keep(self, username: str, files: list[tuple[str, str, bytes]]) -> Upload:
        """Keep ``files`` (form field, file name, content) for ``username``.

        Raises:
            UploadTooLargeError: a file is too large (nothing is kept).
        """
        for _field, name, content in files:
            if len(content) > MAX_FILE_BYTES:
                raise UploadTooLargeError(safe_name(name))
        self.sweep()
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        folder = self._folder(token)
        folder.mkdir(mode=0o700)
        kept = []
        for field, name, content in files:
            place = folder / field
            place.mkdir(mode=0o700)
            path = place / safe_name(name)
            path.write_bytes(content)
            kept.append(StoredFile(field, path, hashlib.sha256(content).hexdigest()))
        return Upload(token, username, tuple(kept), "")

    def seal(self, upload: Upload, preview: str) -> Upload:
        """Record what the preview of ``upload`` showed; returns the sealed upload."""
        manifest = {
            "user": upload.username,
            "preview": preview,
            "files": [
                {"field": f.field, "name": f.path.name, "sha256": f.sha256}
                for f in upload.files
            ],
        }
        (self._folder(upload.token) / _MANIFEST).write_text(json.dumps(manifest))
        return Upload(upload.token, upload.username, upload.files, preview)

    def claim(self, token: str, username: str) -> Upload:
        """Take the sealed upload ``token`` of ``username``, its files unchanged, so
        that no other request can take it again (a second press of the button).

        Raises:
            UploadGoneError: no such upload of this user, stale, taken, or changed.
        """
        folder = self._folder(token)
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
        except (OSError, ValueError):
            raise UploadGoneError(token) from None
        if manifest.get("user") != username:
            raise UploadGoneError(token)
        claimed = folder.with_name(token + _CLAIMED)
        try:
            folder.rename(claimed)
        except OSError:
            raise UploadGoneError(token) from None
        try:
            return self._read(claimed, token, username)
        except UploadGoneError:
            shutil.rmtree(claimed, ignore_errors=True)  # never applicable again
            raise

    def _read(self, folder: Path, token: str, username: str) -> Upload:
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
        except (OSError, ValueError):
            raise UploadGoneError(token) from None
        if manifest.get("user") != username or not manifest.get("preview"):
            raise UploadGoneError(token)
        if folder.stat().st_mtime < time.time() - KEEP_SECONDS:
            raise UploadGoneError(token)
        files = []
        for entry in manifest["files"]:
            path = folder / str(entry["field"]) / str(entry["name"])
            if not path.is_file() or _digest(path) != entry["sha256"]:
                raise UploadGoneError(token)
            files.append(StoredFile(str(entry["field"]), path, str(entry["sha256"])))
        return Upload(token, username, tuple(files), str(manifest["preview"]))

    def discard(self, token: str) -> None:
        """Remove the upload ``token`` (after it was applied or refused)."""
        folder = self._folder(token)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(folder.with_name(token + _CLAIMED), ignore_errors=True)

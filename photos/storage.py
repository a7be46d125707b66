"""Where photos are kept: a small async protocol and a local-disk implementation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from photos.keys import PUBLIC_PREFIX, check_key


class PhotoStorage(Protocol):
    """A key-value store of blobs. Keys come from ``photos.keys``; ``put`` replaces atomically."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    def list_keys(self) -> AsyncIterator[str]:
        """Every stored key, in no particular order (backups copy them all)."""
        ...


class LocalStorage:
    """Files under ``root``; the web server may serve ``root/public`` and must never serve ``root/private``.

    Writes go to a temporary file in the target directory, are fsynced, then ``os.replace``d: a reader
    sees the old file or the complete new one, never a part. The content type is implied by the key's
    extension and not stored. Public files are 0644, private ones 0600.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        """The file of ``key``; raises PhotoKeyInvalid for anything that could leave ``root``."""
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        mode = 0o644 if key.startswith(PUBLIC_PREFIX) else 0o600
        await asyncio.to_thread(_write_atomically, path, data, mode)

    async def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        path = self.path(key)
        return await asyncio.to_thread(path.is_file)

    async def list_keys(self) -> AsyncIterator[str]:
        for key in await asyncio.to_thread(self._keys):
            yield key

    def _keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")  # a write in progress
        )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

"""The toolbox: each public method of ``Files`` is a tool over one directory, the root.

Everything a model sends is hostile input. A path must be relative: absolute paths and
``..`` are refused outright, then the path is resolved (symbolic links followed) and must
still be inside the root, so a link pointing out of it leads nowhere. Every listing, read,
write and search is bounded. Failures are ``ToolError``s written for the model, naming
paths relative to the root and never the host's own.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import BaseModel, ConfigDict, DirectoryPath, Field

from toolkit import Context, ToolAnnotations, ToolError, tool

__all__ = ["SHARE_KEY", "Files", "FilesConfig", "verify_link"]

SHARE_KEY = "FILES_SHARE_KEY"
"""The secret that signs share links (an environment variable, or ``Registry(secrets=...)``)."""

_MAX_PATH_CHARS = 1_024
_MAX_ENTRIES = 500  # names one listing returns
_MAX_MATCHES = 100  # lines one search returns
_MAX_LOOKED_AT = 5_000  # files and directories one search looks at, at most
_MAX_LINE_CHARS = 200  # characters shown of each line a search finds
# Flags for every file opened: never through a symbolic link swapped in after the check
# (where the system has O_NOFOLLOW), and bytes as they are on Windows.
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class FilesConfig(BaseModel):
    """The configuration of the pack: ``Registry.add_pack("files", config={...})``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    root: DirectoryPath = Field(description="The directory the tools work in, and only in.")
    max_bytes: int = Field(
        default=100_000,
        ge=1,
        le=10_000_000,
        description="The most bytes a read returns, a write stores and a search opens per file.",
    )
    share_url: str = Field(
        default="https://files.example.com/share",
        pattern=r"^https?://[^\s?#]+$",
        description="Where shared files are served; links are this URL, the path and a query.",
    )
    share_seconds: int = Field(
        default=3_600, ge=60, le=7 * 86_400, description="How long a share link works."
    )


class Files:
    """Tools over the files of ``config.root``."""

    def __init__(self, config: FilesConfig) -> None:
        self._config = config
        self._root = config.root.resolve(strict=True)

    @tool(name="list", tags=["read"], annotations=ToolAnnotations(read_only=True, idempotent=True))
    def list_directory(self, path: str = ".") -> list[str]:
        """List a directory: subdirectories end with '/', files show their size.

        Args:
            path: The directory, relative to the root ('.' is the root itself).
        """
        directory = self._directory(path)
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            raise self._failed("list", directory, error) from None
        listed = [_described(entry) for entry in entries[:_MAX_ENTRIES]]
        if len(entries) > _MAX_ENTRIES:
            listed.append(f"[and {len(entries) - _MAX_ENTRIES} more: list a subdirectory]")
        return listed

    @tool(tags=["read"], annotations=ToolAnnotations(read_only=True, idempotent=True))
    def read(self, path: str, offset: Annotated[int, Field(ge=0, le=10**15)] = 0) -> str:
        """Read a text file. A long file comes in parts, each ending with a note that gives
        the offset to read on from.

        Args:
            path: The file, relative to the root.
            offset: Where to start, in bytes (from the note at the end of the previous part).
        """
        target = self._file(path)
        try:
            with open(target, "rb", opener=_opener(os.O_RDONLY)) as stream:
                size = os.fstat(stream.fileno()).st_size
                stream.seek(offset)
                data = stream.read(self._config.max_bytes)
        except OSError as error:
            raise self._failed("read", target, error) from None
        if offset > size:
            raise ToolError(f"offset {offset} is past the end of {path!r} ({size} bytes)")
        if b"\x00" in data:
            raise ToolError(f"{path!r} is a binary file: only text files can be read")
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = decoder.decode(data, final=offset + len(data) >= size)
        end = offset + len(data) - len(decoder.getstate()[0])  # a character cut in two waits
        if end < size:
            text += f"\n[{size - end} more bytes: read on with offset={end}]"
        return text

    @tool(tags=["read"], annotations=ToolAnnotations(read_only=True, idempotent=True))
    def search(
        self, text: Annotated[str, Field(min_length=1, max_length=200)], path: str = "."
    ) -> list[str]:
        """Find the lines that contain a text (ignoring case) in the text files of a
        directory and its subdirectories, as 'path:line number: line'.

        Args:
            text: The text to look for, as plain text (not a pattern).
            path: The directory to search, relative to the root.
        """
        directory = self._directory(path)
        wanted = text.casefold()
        found: list[str] = []
        looked_at = 0
        for folder, subfolders, names in os.walk(directory):  # never into linked directories
            subfolders.sort()
            looked_at += 1 + len(names)
            if looked_at > _MAX_LOOKED_AT:
                found.append(f"[stopped after {_MAX_LOOKED_AT} entries: search a subdirectory]")
                return found
            for name in sorted(names):
                file = Path(folder, name)
                if file.is_symlink() or not file.is_file():
                    continue
                for number, line in enumerate(self._lines(file), start=1):
                    if wanted in line.casefold():
                        found.append(f"{self._shown(file)}:{number}: {line[:_MAX_LINE_CHARS]}")
                        if len(found) == _MAX_MATCHES:
                            found.append(
                                f"[stopped at {_MAX_MATCHES} lines: search for more words]"
                            )
                            return found
        return found

    @tool(tags=["write"], annotations=ToolAnnotations(destructive=True, idempotent=True))
    def write(self, path: str, content: str, overwrite: bool = False) -> str:
        """Write a text file, creating its directories. A file that exists is replaced
        only with overwrite=true.

        Args:
            path: The file, relative to the root.
            content: The whole text of the file.
            overwrite: Replace the file if it exists.
        """
        target = self._resolve(path)
        shown = self._shown(target)
        if target.is_dir():
            raise ToolError(f"{shown!r} is a directory: give the path of a file")
        data = content.encode("utf-8", errors="replace")  # a lone surrogate becomes '?'
        if len(data) > self._config.max_bytes:
            raise ToolError(
                f"the content is {len(data)} bytes; at most {self._config.max_bytes} bytes"
                " can be written"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise self._failed("create the directory of", target, error) from None
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            with open(target, "wb", opener=_opener(flags)) as stream:
                stream.write(data)
        except FileExistsError:
            raise ToolError(
                f"{shown!r} exists: write it with overwrite=true to replace it"
            ) from None
        except OSError as error:
            raise self._failed("write", target, error) from None
        return f"wrote {len(data)} bytes to {shown}"

    @tool(tags=["write"], annotations=ToolAnnotations(destructive=True, idempotent=True))
    def delete(self, path: str) -> str:
        """Delete a file or an empty directory.

        Args:
            path: The file or directory, relative to the root.
        """
        relative = _relative(path)
        # The directory is resolved, not the name in it: deleting a symbolic link deletes
        # the link, not the file it points to.
        parent = self._resolve(str(relative.parent))
        target = parent / relative.name
        if not relative.name or target == self._root:
            raise ToolError("the path names the root directory, which cannot be deleted")
        try:
            if target.is_dir() and not target.is_symlink():
                target.rmdir()
            else:
                target.unlink()
        except FileNotFoundError:
            raise ToolError(f"{path!r} does not exist") from None
        except OSError as error:
            raise self._failed("delete", target, error) from None
        return f"deleted {self._shown(target)}"

    @tool(tags=["share"], secrets=[SHARE_KEY], annotations=ToolAnnotations(read_only=True))
    def share(self, ctx: Context[Any], path: str) -> str:
        """Make a link to a file that anyone can open until it expires.

        Args:
            path: The file, relative to the root.
        """
        target = self._file(path)
        expires = int(time.time()) + self._config.share_seconds
        base = self._config.share_url.rstrip("/")
        link = f"{base}/{quote(self._shown(target))}?expires={expires}"
        return f"{link}&signature={_signature(ctx.secrets[SHARE_KEY], link)}"

    # -- paths -----------------------------------------------------------------------------

    def _resolve(self, path: str) -> Path:
        """The absolute path ``path`` names, symbolic links followed, inside the root."""
        relative = _relative(path)
        try:
            resolved = (self._root / relative).resolve()
        except (OSError, RuntimeError):  # a loop of symbolic links
            raise ToolError(f"{path!r} cannot be resolved (a loop of symbolic links)") from None
        if resolved != self._root and self._root not in resolved.parents:
            raise ToolError(f"{path!r} leads out of the root through a symbolic link")
        return resolved

    def _file(self, path: str) -> Path:
        target = self._resolve(path)
        if not target.exists():
            raise ToolError(f"{path!r} does not exist: list its directory to see what is there")
        if not target.is_file():
            kind = "a directory" if target.is_dir() else "not a regular file"
            raise ToolError(f"{path!r} is {kind}: give the path of a file")
        return target

    def _directory(self, path: str) -> Path:
        target = self._resolve(path)
        if not target.is_dir():
            state = "is not a directory" if target.exists() else "does not exist"
            raise ToolError(f"{path!r} {state}: list the root ('.') to see its directories")
        return target

    def _shown(self, path: Path) -> str:
        """``path`` as the model knows it: relative to the root."""
        return path.relative_to(self._root).as_posix()

    def _lines(self, file: Path) -> list[str]:
        """A file's lines for a search: none for a binary, unreadable or too large file."""
        try:
            with open(file, "rb", opener=_opener(os.O_RDONLY)) as stream:
                data = stream.read(self._config.max_bytes + 1)
        except OSError:
            return []
        if len(data) > self._config.max_bytes or b"\x00" in data:
            return []
        return data.decode("utf-8", errors="replace").splitlines()

    def _failed(self, action: str, path: Path, error: OSError) -> ToolError:
        """An operating-system failure, without the host path the exception carries."""
        reason = error.strerror or type(error).__name__
        return ToolError(f"cannot {action} {self._shown(path)!r}: {reason}")


def verify_link(link: str, key: str, *, now: float | None = None) -> bool:
    """Whether ``link`` was made by ``share`` with ``key`` and has not expired: what the
    server behind ``share_url`` checks before serving the file."""
    signed, marker, signature = link.rpartition("&signature=")
    if not marker or not hmac.compare_digest(signature, _signature(key, signed)):
        return False
    expires = parse_qs(urlsplit(signed).query).get("expires", [""])[0]
    return expires.isdigit() and int(expires) >= (time.time() if now is None else now)


def _signature(key: str, link: str) -> str:
    return hmac.new(key.encode(), link.encode(), hashlib.sha256).hexdigest()


def _relative(path: str) -> PurePosixPath:
    """``path`` checked before it touches the file system: short, relative, without ``..``."""
    if len(path) > _MAX_PATH_CHARS:
        raise ToolError(f"the path is {len(path)} characters long; at most {_MAX_PATH_CHARS}")
    if "\x00" in path:
        raise ToolError("the path contains a NUL character")
    if PureWindowsPath(path).anchor:  # '/etc', '\\server\share', 'C:\' and 'C:' alike
        raise ToolError(
            f"{path!r} is absolute: give a path relative to the root, like 'notes/todo.txt'"
        )
    relative = PurePosixPath(path.replace("\\", "/"))
    if ".." in relative.parts:
        raise ToolError(f"{path!r} goes up with '..': give a path inside the root")
    return relative


def _opener(flags: int) -> Callable[[str, int], int]:
    """An ``opener`` for ``open`` that opens with ``flags`` (and never follows a link)."""

    def opener(path: str, _mode: int) -> int:
        return os.open(path, flags | _OPEN_FLAGS)

    return opener


def _described(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return f"{entry.name} (link)"
    if entry.is_dir():
        return f"{entry.name}/"
    try:
        return f"{entry.name} ({entry.stat().st_size} bytes)"
    except OSError:
        return entry.name

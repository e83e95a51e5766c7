"""Images and files a tool returns: ``Image`` and ``File``.

A tool may return an ``Image``, a ``File``, or a list mixing them with text; the registry
keeps them as ``ToolResult.parts`` and each codec sends them in its protocol's own form
(or tells the model and the host what it had to leave out). Both hold exactly one of:

- ``data``: the bytes, with their ``media_type``;
- ``url``: an ``http(s)://`` link (the provider fetches it) or a ``data:`` URL (the bytes,
  base64-encoded; the media type is read from it);
- a file read by ``from_path``, its media type guessed from its suffix.

Everything is checked when the object is made: the media type (for ``Image``: PNG, JPEG,
GIF or WebP), the size (at most ``MAX_BYTES``), the URL's scheme, a ``data:`` URL's base64.
The wording of the placeholders that stand for media in text (``describe``) lives here too.
"""

from __future__ import annotations

# mimetypes, pathlib, urllib and pydantic_core's schema module cost milliseconds to import
# and only a tool that returns media needs them: they are imported where used, so that
# ``import toolkit`` stays light.
import base64
import os
import re
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, cast, final

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["IMAGE_TYPES", "MAX_BYTES", "MAX_URL_CHARS", "File", "Image", "Part", "describe"]

MAX_BYTES = 20 * 1024 * 1024
"""The largest image or file, in bytes (20 MB: the most a provider takes inline)."""

MAX_URL_CHARS = 8192
"""The longest ``http(s)`` URL accepted (``data:`` URLs are bounded by ``MAX_BYTES``)."""

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""The media types an ``Image`` may have: the ones every vision API takes."""

_MAX_FILENAME_CHARS = 255
_MAX_URL_SHOWN = 200  # a URL in a placeholder, clipped
# type/subtype, RFC 6838's restricted names; bounded, so linear on any input
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Suffixes whose type must not depend on the machine's mime.types (WebP is missing from
# Python 3.10's own table).
_KNOWN_SUFFIXES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
}


# Not dataclasses: pydantic serialises a dataclass's fields wherever one sits inside a
# returned value (the bytes, as text); these serialise as their placeholder (``__str__``).
class _Media:
    """What ``Image`` and ``File`` share: bytes or a link, and a media type. Read-only,
    compared and hashed by value (the cached base64 aside)."""

    __slots__ = ("_encoded", "data", "media_type", "url")

    data: bytes | None
    url: str | None
    media_type: str
    _encoded: list[str]  # the base64, made on first use

    KIND: ClassVar[str] = "media"

    def __init__(
        self,
        data: bytes | bytearray | memoryview | None = None,
        *,
        url: str | None = None,
        media_type: str | None = None,
    ) -> None:
        kind = type(self).__name__
        if (data is None) == (url is None):
            raise TypeError(f"{kind}() takes exactly one of data= and url=")
        encoded: list[str] = []
        if data is not None:
            if not isinstance(data, (bytes, bytearray, memoryview)):  # pyright: ignore[reportUnnecessaryIsInstance] - user code
                raise TypeError(f"{kind} data must be bytes, got {type(data).__name__}")
            data = bytes(data)  # a copy of a bytearray: the object must not change later
            _check_size(kind, len(data), "the data")
            if media_type is None:
                raise TypeError(f"{kind}(data) needs media_type=, e.g. {self._example()!r}")
            media_type = _media_type(kind, media_type)
        elif not isinstance(url, str):  # pyright: ignore[reportUnnecessaryIsInstance] - user code
            raise TypeError(f"{kind} url must be a str, got {type(url).__name__}")
        elif url[:5].lower() == "data:":
            # The bytes, spelled as a URL: kept as bytes (and the base64, already at hand).
            from_url, data, payload = _data_url(kind, url)
            if media_type is not None and _media_type(kind, media_type) != from_url:
                raise ValueError(
                    f"{kind}: media_type {media_type!r} differs from the data: URL's {from_url!r}"
                )
            media_type, url, encoded = from_url, None, [payload]
        else:
            _check_link(kind, url)
            if media_type is None:
                from urllib.parse import urlsplit  # noqa: PLC0415 - see the imports

                media_type = _guess(urlsplit(url).path)
                if media_type is None:
                    raise ValueError(
                        f"{kind}: cannot tell the media type of {url[:_MAX_URL_SHOWN]!r}"
                        f" from its path; pass media_type=, e.g. {self._example()!r}"
                    )
            media_type = _media_type(kind, media_type)
        self._check_type(media_type)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "media_type", media_type)
        object.__setattr__(self, "_encoded", encoded)

    @property
    def inline(self) -> bool:
        """Whether the bytes are here (``data``), not behind an ``http(s)`` link."""
        return self.data is not None

    @property
    def size(self) -> int | None:
        """The number of bytes, when they are here (``None`` for a link)."""
        return None if self.data is None else len(self.data)

    def base64(self) -> str:
        """The bytes in base64 (made once, then kept).

        Raises:
            ValueError: the media is an ``http(s)`` link: its bytes are not here.
        """
        if self._encoded:
            return self._encoded[0]
        if self.data is None:
            raise ValueError(
                f"{self._name()} is a link to {_clipped(self.url)}; its bytes are not here"
            )
        encoded = base64.b64encode(self.data).decode("ascii")
        self._encoded.append(encoded)
        return encoded

    def data_url(self) -> str:
        """The bytes as a ``data:<media type>;base64,...`` URL.

        Raises:
            ValueError: the media is an ``http(s)`` link: its bytes are not here.
        """
        return f"data:{self.media_type};base64,{self.base64()}"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; make a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; make a new one")

    def _key(self) -> tuple[object, ...]:
        return (self.data, self.url, self.media_type)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType] - same type

    def __hash__(self) -> int:
        return hash(self._key())

    def __copy__(self) -> _Media:
        return self  # read-only: a copy is the same value

    def __deepcopy__(self, memo: dict[int, object]) -> _Media:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.data, self.url, self.media_type, self._extra_state()))

    def _extra_state(self) -> dict[str, object]:
        return {}

    def __str__(self) -> str:
        return describe(cast("Image | File", self))

    def __repr__(self) -> str:
        if self.data is not None:
            where = f"{len(self.data)} bytes"
        else:
            where = f"url={_clipped(self.url)!r}"
        return f"{type(self).__name__}({where}, media_type={self.media_type!r}{self._extra()})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # Serialised as its placeholder text, never as its bytes: an image nested in a
        # returned dict reaches the model as "[image: image/png, 3.1 KB]", and the JSON
        # Schema of a tool returning one (MCP's outputSchema) is a string. Never taken as
        # an argument: nothing a model writes is an image.
        from pydantic_core import core_schema  # noqa: PLC0415 - see the imports

        return core_schema.is_instance_schema(
            cls,
            serialization=core_schema.plain_serializer_function_ser_schema(
                describe, return_schema=core_schema.str_schema()
            ),
        )

    def _name(self) -> str:
        return f"this {type(self).__name__.lower()}"

    def _extra(self) -> str:
        return ""

    @classmethod
    def _example(cls) -> str:
        return "image/png"

    def _check_type(self, media_type: str) -> None:
        return None

    @classmethod
    def _read(cls, path: str | os.PathLike[str], media_type: str | None) -> tuple[bytes, str]:
        """The bytes of the file at ``path`` and its media type (given, or guessed)."""
        kind = cls.__name__
        from pathlib import Path  # noqa: PLC0415 - see the imports

        where: Path = Path(path)
        if media_type is None:
            media_type = _guess(where.name)
            if media_type is None:
                raise ValueError(
                    f"{kind}.from_path: cannot tell the media type of {str(where)!r} from its"
                    f" suffix; pass media_type=, e.g. {cls._example()!r}"
                )
        _check_size(kind, where.stat().st_size, repr(str(where)))  # before reading it
        with where.open("rb") as file:
            data = file.read(MAX_BYTES + 1)  # it may have grown since
        _check_size(kind, len(data), repr(str(where)))
        return data, media_type


@final
class Image(_Media):
    """An image a tool returns: PNG, JPEG, GIF or WebP, as bytes or a URL.

    ``Image(png_bytes, media_type="image/png")``, ``Image(url="https://...")`` (the media
    type guessed from the URL's path when not given) or ``Image.from_path("chart.png")``.

    Attributes:
        data: The bytes (``None`` for a URL).
        url: An ``http(s)`` or ``data:`` URL (``None`` for bytes).
        media_type: ``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp``.

    Raises:
        TypeError: not exactly one of ``data`` and ``url``, a value of the wrong type, or
            bytes without a ``media_type``.
        ValueError: another media type, more than ``MAX_BYTES``, a URL that is neither
            ``http(s)`` nor a base64 ``data:`` URL.
    """

    __slots__ = ()

    KIND: ClassVar[str] = "image"

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], *, media_type: str | None = None) -> Image:
        """The image in the file at ``path``; its media type is guessed from the suffix
        (``.png``, ``.jpg``, ...) unless given.

        Raises:
            ValueError: an unknown suffix, a type that is not an image type above, or a file
                larger than ``MAX_BYTES``.
            OSError: the file cannot be read.
        """
        data, guessed = cls._read(path, media_type)
        return cls(data, media_type=guessed)

    def _check_type(self, media_type: str) -> None:
        if media_type not in IMAGE_TYPES:
            known = ", ".join(sorted(IMAGE_TYPES))
            raise ValueError(
                f"Image: media type {media_type!r} is not an image type models take; expected"
                f" one of {known} (use File for other types)"
            )


@final
class File(_Media):
    """A file a tool returns (a PDF, a text, a spreadsheet...), as bytes or a URL.

    ``File(pdf_bytes, media_type="application/pdf", filename="report.pdf")``,
    ``File(url="https://.../report.pdf")`` or ``File.from_path("report.pdf")`` (the
    filename is the path's name). Which protocols can carry which types is in
    docs/tools.md ("Images and files"); the others are told what was left out.

    Attributes:
        data: The bytes (``None`` for a URL).
        url: An ``http(s)`` or ``data:`` URL (``None`` for bytes).
        media_type: Any ``type/subtype``, e.g. ``application/pdf``.
        filename: The name shown to the model, when there is one.

    Raises:
        TypeError: not exactly one of ``data`` and ``url``, a value of the wrong type, or
            bytes without a ``media_type``.
        ValueError: a malformed media type or filename, more than ``MAX_BYTES``, a URL that
            is neither ``http(s)`` nor a base64 ``data:`` URL.
    """

    __slots__ = ("filename",)

    filename: str | None

    KIND: ClassVar[str] = "file"

    def __init__(
        self,
        data: bytes | bytearray | memoryview | None = None,
        *,
        url: str | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        if filename is not None:
            if not isinstance(filename, str):  # pyright: ignore[reportUnnecessaryIsInstance] - user code
                raise TypeError(f"File filename must be a str, got {type(filename).__name__}")
            if not 0 < len(filename) <= _MAX_FILENAME_CHARS or _CONTROL.search(filename):
                raise ValueError(
                    f"File: filename must be 1 to {_MAX_FILENAME_CHARS} characters without"
                    f" control characters, got {filename[:_MAX_FILENAME_CHARS]!r}"
                )
        super().__init__(data, url=url, media_type=media_type)
        object.__setattr__(self, "filename", filename)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> File:
        """The file at ``path``, named by the path's name unless ``filename`` is given; its
        media type is guessed from the suffix unless given.

        Raises:
            ValueError: an unknown suffix, or a file larger than ``MAX_BYTES``.
            OSError: the file cannot be read.
        """
        data, guessed = cls._read(path, media_type)
        return cls(data, media_type=guessed, filename=filename or os.path.basename(path))

    @classmethod
    def _example(cls) -> str:
        return "application/pdf"

    def _extra(self) -> str:
        return "" if self.filename is None else f", filename={self.filename!r}"

    def _key(self) -> tuple[object, ...]:
        return (self.data, self.url, self.media_type, self.filename)

    def _extra_state(self) -> dict[str, object]:
        return {"filename": self.filename}


Part: TypeAlias = "str | Image | File"
"""One part of a tool's result: a text, an image or a file."""


def describe(part: Image | File, *, left_out: bool = False) -> str:
    """The placeholder that stands for ``part`` in a text: ``[image: image/png, 12.3 KB]``,
    ``[file: report.pdf, application/pdf, 1.2 MB]``, or the URL for a link; ``left_out``
    adds that the protocol in use could not deliver it."""
    words = [part.KIND + ":"]
    if isinstance(part, File) and part.filename is not None:
        words.append(part.filename + ",")
    size = part.size
    if size is None:
        words.append(f"{part.media_type}, {_clipped(part.url)}")
    else:
        words.append(f"{part.media_type}, {_size_text(size)}")
    text = " ".join(words)
    if left_out:
        text += "; left out: this protocol cannot carry it in a tool result"
    return f"[{text}]"


def _restore(cls: type[_Media], data: Any, url: Any, media_type: Any, extra: Any) -> _Media:
    """Unpickle: the object made again (and checked again) from its fields."""
    return cls(data, url=url, media_type=media_type, **extra)


def _clipped(url: str | None) -> str:
    url = url or ""
    return url if len(url) <= _MAX_URL_SHOWN else url[:_MAX_URL_SHOWN] + "..."


def _size_text(size: int) -> str:
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _check_size(kind: str, size: int, what: str) -> None:
    if size > MAX_BYTES:
        raise ValueError(
            f"{kind}: {what} is {size:,} bytes, more than the limit of {MAX_BYTES:,} bytes"
            f" ({_size_text(MAX_BYTES)})"
        )


def _media_type(kind: str, media_type: object) -> str:
    """``media_type`` checked and lower-cased."""
    if not isinstance(media_type, str):
        raise TypeError(f"{kind} media_type must be a str, got {type(media_type).__name__}")
    lowered = media_type.strip().lower()
    if len(lowered) > 255 or not _MEDIA_TYPE.fullmatch(lowered):
        raise ValueError(
            f"{kind}: media_type must be a bare type/subtype like 'image/png', got"
            f" {media_type[:100]!r}"
        )
    return lowered


def _guess(name: str) -> str | None:
    """The media type of a file or URL path, from its suffix."""
    suffix = os.path.splitext(name)[1].lower()
    known = _KNOWN_SUFFIXES.get(suffix)
    if known is not None:
        return known
    import mimetypes  # noqa: PLC0415 - see the imports

    guessed, _encoding = mimetypes.guess_type("x" + suffix) if suffix else (None, None)
    return guessed


def _check_link(kind: str, url: str) -> None:
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"{kind}: the URL is {len(url):,} characters, more than {MAX_URL_CHARS:,}")
    try:
        from urllib.parse import urlsplit  # noqa: PLC0415 - see the imports

        parts = urlsplit(url)
    except ValueError as error:
        raise ValueError(f"{kind}: malformed URL {url[:_MAX_URL_SHOWN]!r}: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{kind}: a URL must be http(s):// or data:, got {url[:_MAX_URL_SHOWN]!r}")
    if _CONTROL.search(url) or " " in url:
        raise ValueError(f"{kind}: the URL holds spaces or control characters")


def _data_url(kind: str, url: str) -> tuple[str, bytes, str]:
    """A base64 ``data:`` URL checked and decoded: (its media type, bytes, base64)."""
    comma = url.find(",")
    if comma < 0:
        raise ValueError(f"{kind}: a data: URL needs a ',' before its data")
    header = url[5:comma].split(";")
    if len(header) < 2 or header[-1].strip().lower() != "base64":
        raise ValueError(f"{kind}: a data: URL must be base64: 'data:<media type>;base64,...'")
    media_type = _media_type(kind, header[0])
    payload = url[comma + 1 :]
    _check_size(kind, len(payload) // 4 * 3, "the data: URL's data")  # before decoding
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError as error:  # binascii.Error is a ValueError
        raise ValueError(f"{kind}: the data: URL's data is not valid base64 ({error})") from None
    return media_type, data, payload

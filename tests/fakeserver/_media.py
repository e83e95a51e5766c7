"""Checks of images and files sent in requests, shared by the fake servers.

The live APIs decode what they are sent: a data URL that is not base64, or bytes that are
not the image the media type says, are 400s. These helpers say what is wrong (a problem
text) or return ``None``; each server words its error in its own API's shape.
"""

from __future__ import annotations

import base64
import binascii
import re

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

_DATA_URL = re.compile(r"data:([a-zA-Z0-9.+-]+/[a-zA-Z0-9.+-]+);base64,", re.ASCII)


def sniff(data: bytes) -> str | None:
    """The image type the bytes are, by their signature (``None``: no image type known)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode(text: str) -> bytes | None:
    """Strict base64, or ``None``."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def data_url(url: str) -> tuple[str, bytes] | None:
    """The media type and bytes of a base64 ``data:`` URL, or ``None`` when malformed."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    data = decode(url[match.end() :])
    return None if data is None else (match.group(1).lower(), data)


def image_problem(media_type: str, data: bytes) -> str | None:
    """What is wrong with image bytes said to be ``media_type``."""
    actual = sniff(data)
    if actual is None:
        return "Could not process image"
    if actual != media_type:
        return (
            f"The image was specified using the {media_type} media type, but the image appears"
            f" to be a {actual} image"
        )
    return None


def is_link(url: str) -> bool:
    return url.startswith(("http://", "https://"))

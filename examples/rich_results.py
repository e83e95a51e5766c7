"""Rich results: a tool returns a chart (PNG bytes) beside its text, and the model sees it.

Run: python examples/rich_results.py

The tool returns ``[summary, Image(png, media_type="image/png")]``; each protocol gets the
image in its own form (Chat Completions: in a user message after the tool messages). The
chart is drawn here with ``zlib`` and ``struct`` alone: no plotting library needed.

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one
(it must take images), set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL, or also
TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from _common import OFFLINE, client_and_model, report, user_text

from toolkit import Image, Runner, tool
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

SALES = {"north": [3, 5, 8, 6], "south": [7, 4, 2, 9]}  # per quarter, in units of 10k


def bar_chart(values: list[int], *, bar: int = 8, scale: int = 4) -> bytes:
    """A PNG bar chart: one blue bar per value on white, ``bar`` pixels wide."""
    width, height = bar * len(values), scale * max(values)
    rows: list[bytes] = []
    for y in range(height):
        row = bytearray(b"\x00")  # PNG filter type "none" for the row
        for value in values:
            filled = height - y <= value * scale
            pixel = b"\x30\x60\xc0" if filled else b"\xff\xff\xff"
            row += pixel * (bar - 1) + b"\xff\xff\xff"  # a white gap after each bar
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@tool
def plot_sales(region: str) -> list[Any]:
    """Plot a region's quarterly sales.

    Args:
        region: The sales region, "north" or "south".
    """
    values = SALES.get(region.lower())
    if values is None:
        return [f"No sales data for {region!r}; regions: {', '.join(SALES)}."]
    best = max(range(len(values)), key=values.__getitem__)
    summary = f"Sales of {region} per quarter: {values}; best quarter: Q{best + 1}."
    return [summary, Image(bar_chart(values), media_type="image/png")]


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: ask for the chart, then describe what reached it."""
    images = [
        part["image_url"]["url"]
        for message in request.messages
        if message.get("role") == "user" and isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]
    if not images:
        region = "south" if "south" in user_text(request).lower() else "north"
        return call("plot_sales", region=region)
    kind = images[0].split(";")[0].removeprefix("data:")
    return f"I see the chart ({kind}): the bars rise to a peak in Q3, then fall back in Q4."


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(
        client,
        model=model,
        tools=[plot_sales],
        system="You are an analyst. Plot the data, then describe the chart you see.",
    )
    result = runner.run("How did the north region sell this year? Look at the chart.")
    report(result)

    if OFFLINE:
        [plotted] = result.tool_results
        summary, chart = plotted.parts
        assert summary == "Sales of north per quarter: [3, 5, 8, 6]; best quarter: Q3."
        assert isinstance(chart, Image)
        assert chart.data is not None
        assert chart.data.startswith(b"\x89PNG")
        assert plotted.content.endswith(f"[image: image/png, {chart.size} bytes]")
        assert result.text.startswith("I see the chart (image/png)")
        assert result.stop_reason == "end"


if __name__ == "__main__":
    main()

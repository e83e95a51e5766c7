"""Images and files as tool results: ``Image`` and ``File``, the registry's parts, each
codec's native form (or its reported loss), the runner over the real SDK clients against
the fake servers, MCP both ways, and a pause that keeps an image."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import pickle
import re
import struct
import sys
import warnings
import zlib
from pathlib import Path
from typing import Any, cast

import anthropic
import anyio
import openai
import pytest
from fakeserver import Call, FakeServer, Reply
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import (
    Approve,
    ContentLossWarning,
    File,
    Image,
    PendingApproval,
    Registry,
    Runner,
    StateError,
    ToolCall,
    ToolResult,
    tool,
)
from toolkit.backends.openai import OpenAIResponses
from toolkit.backends.workers_ai import WorkersAI
from toolkit.formats import get_format
from toolkit.media import MAX_BYTES, describe
from toolkit.testing import ScriptedModel, call


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()
PNG64 = base64.b64encode(PNG).decode()
PDF = b"%PDF-1.4\n%fake but well-started"  # 31 bytes
PDF64 = base64.b64encode(PDF).decode()
DOT = Image(PNG, media_type="image/png")
REPORT = File(PDF, media_type="application/pdf", filename="report.pdf")
MODEL = "fake-model"


def result(*parts: str | Image | File, call_id: str = "c1", name: str = "chart") -> ToolResult:
    """A result with ``parts``, as the registry makes one."""
    content = "\n".join(p if isinstance(p, str) else describe(p) for p in parts)
    return ToolResult(call_id, name, None, content, parts=parts)


# -- Image and File ------------------------------------------------------------------------------


def test_an_image_holds_bytes_and_gives_base64_and_a_data_url() -> None:
    assert DOT.data == PNG
    assert DOT.url is None
    assert DOT.media_type == "image/png"
    assert DOT.inline
    assert DOT.size == len(PNG)
    assert DOT.base64() == PNG64
    assert DOT.base64() is DOT.base64()  # made once
    assert DOT.data_url() == f"data:image/png;base64,{PNG64}"


def test_a_data_url_is_checked_and_decoded() -> None:
    image = Image(url=f"data:IMAGE/PNG;param=1;base64,{PNG64}")
    assert (image.media_type, image.data, image.url) == ("image/png", PNG, None)
    assert image == DOT
    assert image.base64() == PNG64
    assert image.data_url() == f"data:image/png;base64,{PNG64}"


def test_a_link_has_no_bytes_here() -> None:
    image = Image(url="https://example.com/charts/q3.webp")
    assert (image.media_type, image.inline, image.size) == ("image/webp", False, None)
    with pytest.raises(ValueError, match=r"is a link to https://example\.com/charts/q3\.webp"):
        image.base64()
    assert Image(url="https://example.com/chart?id=3", media_type="image/png").url
    assert File(url="https://example.com/a.pdf").media_type == "application/pdf"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Image(PNG), TypeError, r"Image\(data\) needs media_type="),
        (Image, TypeError, "exactly one of data= and url="),
        (lambda: Image(PNG, url="https://x.org/a.png"), TypeError, "exactly one of"),
        (lambda: Image(cast("Any", "text"), media_type="image/png"), TypeError, "must be bytes"),
        (lambda: Image(PNG, media_type="image/svg+xml"), ValueError, "not an image type"),
        (lambda: Image(PNG, media_type="png"), ValueError, "bare type/subtype"),
        (lambda: Image(PNG, media_type="image/png; q=1"), ValueError, "bare type/subtype"),
        (lambda: Image(url="ftp://x.org/a.png"), ValueError, r"must be http\(s\):// or data:"),
        (lambda: Image(url="javascript:alert(1)"), ValueError, r"must be http\(s\)://"),
        (lambda: Image(url="https:///a.png"), ValueError, r"must be http\(s\)://"),
        (lambda: Image(url="https://x.org/a b.png"), ValueError, "spaces or control"),
        (lambda: Image(url="https://x.org/chart"), ValueError, "cannot tell the media type"),
        (lambda: Image(url="data:image/png,abc"), ValueError, "must be base64"),
        (lambda: Image(url="data:image/png;base64"), ValueError, "needs a ','"),
        (lambda: Image(url="data:image/png;base64,@@@@"), ValueError, "not valid base64"),
        (
            lambda: Image(url=f"data:image/png;base64,{PNG64}", media_type="image/gif"),
            ValueError,
            "differs from the data: URL's 'image/png'",
        ),
        (lambda: File(PDF, media_type="application/pdf", filename="a\nb"), ValueError, "control"),
        (lambda: File(PDF, media_type="application/pdf", filename=""), ValueError, "1 to 255"),
        (lambda: File(url="https://x.org/" + "a" * 9000 + ".pdf"), ValueError, "more than 8,192"),
    ],
)
def test_what_cannot_be_an_image_or_a_file_is_refused_when_made(
    make: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make()


def test_the_size_limit_names_the_size_and_the_limit() -> None:
    with pytest.raises(ValueError, match=r"20,971,521 bytes, more than the limit of 20,971,520"):
        File(bytes(MAX_BYTES + 1), media_type="application/octet-stream")
    too_long = "A" * ((MAX_BYTES // 3 + 1) * 4)
    with pytest.raises(ValueError, match="more than the limit"):
        Image(url=f"data:image/png;base64,{too_long}")  # refused before it is decoded


def test_from_path_reads_the_file_and_guesses_its_type(tmp_path: Path) -> None:
    (tmp_path / "chart.PNG").write_bytes(PNG)
    (tmp_path / "report.pdf").write_bytes(PDF)
    assert Image.from_path(tmp_path / "chart.PNG") == DOT
    assert File.from_path(str(tmp_path / "report.pdf")) == REPORT
    renamed = File.from_path(tmp_path / "report.pdf", filename="q3.pdf")
    assert renamed.filename == "q3.pdf"
    (tmp_path / "blob.unknownsuffix").write_bytes(b"?")
    with pytest.raises(ValueError, match=r"cannot tell the media type of .*blob\.unknownsuffix"):
        File.from_path(tmp_path / "blob.unknownsuffix")
    assert File.from_path(tmp_path / "blob.unknownsuffix", media_type="application/x-blob").data
    with pytest.raises(ValueError, match="not an image type"):
        Image.from_path(tmp_path / "report.pdf")
    with pytest.raises(FileNotFoundError):
        Image.from_path(tmp_path / "missing.png")


def test_from_path_refuses_a_large_file_before_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing is written, nothing read
    with pytest.raises(ValueError, match=r"huge\.png' is 20,971,521 bytes, more than the limit"):
        Image.from_path(huge)


def test_read_only_compared_by_value_and_never_shows_its_bytes() -> None:
    secret = Image(b"\x89PNG top-secret-pixels", media_type="image/png")
    assert repr(secret) == "Image(22 bytes, media_type='image/png')"
    assert "secret" not in repr(secret)
    assert "secret" not in str(secret)
    assert str(secret) == "[image: image/png, 22 bytes]"
    assert repr(REPORT) == "File(31 bytes, media_type='application/pdf', filename='report.pdf')"
    link = Image(url="https://example.com/dot.png")
    assert repr(link) == "Image(url='https://example.com/dot.png', media_type='image/png')"
    with pytest.raises(AttributeError, match="read-only"):
        DOT.media_type = "image/gif"  # type: ignore[misc]
    assert Image(PNG, media_type="IMAGE/PNG") == DOT
    assert hash(DOT) == hash(Image(PNG, media_type="image/png"))
    assert link != DOT
    assert File(PNG, media_type="image/png") != DOT
    assert pickle.loads(pickle.dumps(REPORT)) == REPORT
    assert copy.deepcopy(DOT) is DOT


def test_placeholders_say_kind_name_type_and_size() -> None:
    assert describe(DOT) == f"[image: image/png, {len(PNG)} bytes]"
    assert describe(REPORT) == "[file: report.pdf, application/pdf, 31 bytes]"
    big = File(bytes(12_600), media_type="text/csv")
    assert describe(big) == "[file: text/csv, 12.3 KB]"
    link = Image(url="https://example.com/a.gif")
    assert describe(link, left_out=True) == (
        "[image: image/gif, https://example.com/a.gif; left out: this protocol cannot carry it"
        " in a tool result]"
    )


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=64),
    media_type=st.one_of(
        st.text(max_size=40),
        st.sampled_from(["image/png", "image/jpeg", "application/pdf", "text/plain", "IMAGE/GIF"]),
    ),
    kind=st.sampled_from([Image, File]),
)
def test_any_bytes_and_media_type_make_one_or_raise_a_value_or_type_error(
    data: bytes, media_type: str, kind: type[Image] | type[File]
) -> None:
    try:
        made = kind(data, media_type=media_type)
    except (ValueError, TypeError):
        return
    assert made.data == data
    assert base64.b64decode(made.base64()) == data
    assert made.media_type == media_type.strip().lower()


@settings(max_examples=300, deadline=None)
@given(url=st.one_of(st.text(max_size=80), st.text(max_size=60).map(lambda t: "data:" + t)))
def test_any_url_makes_one_or_raises_a_value_or_type_error(url: str) -> None:
    for kind in (Image, File):
        with contextlib.suppress(ValueError, TypeError):
            kind(url=url, media_type="image/png")


# -- the registry --------------------------------------------------------------------------------


@tool
def chart() -> Image:
    """Draw the chart."""
    return DOT


@tool
def report() -> File:
    """Fetch the report."""
    return REPORT


@tool
def summary() -> list[Any]:
    """The chart, the report and the numbers."""
    return ["Q3 revenue", DOT, {"total": 42}, 7, "", REPORT, "end"]


def run_one(registry: Registry, name: str) -> ToolResult:
    [done] = registry.execute([ToolCall(id="c1", name=name, arguments="{}")])
    return done


def test_a_tool_returning_an_image_or_a_file_gives_parts() -> None:
    registry = Registry([chart, report, summary])
    image = run_one(registry, "chart")
    assert (image.value, image.parts, image.is_error) == (DOT, (DOT,), False)
    assert image.content == f"[image: image/png, {len(PNG)} bytes]"
    pdf = run_one(registry, "report")
    assert pdf.parts == (REPORT,)
    assert pdf.content == "[file: report.pdf, application/pdf, 31 bytes]"
    mixed = run_one(registry, "summary")
    assert mixed.parts == ("Q3 revenue", DOT, '{"total":42}\n7', REPORT, "end")
    assert mixed.content == (
        f"Q3 revenue\n[image: image/png, {len(PNG)} bytes]\n"
        '{"total":42}\n7\n[file: report.pdf, application/pdf, 31 bytes]\nend'
    )
    assert "parts=5" in repr(mixed)


def test_plain_values_keep_text_only_results() -> None:
    @tool
    def names() -> list[str]:
        """Names."""
        return ["a", "b"]

    @tool
    def nested() -> dict[str, Any]:
        """An image deeper in a value is its placeholder, not a part."""
        return {"chart": DOT}

    registry = Registry([names, nested])
    assert (run_one(registry, "names").content, run_one(registry, "names").parts) == (
        '["a","b"]',
        (),
    )
    deep = run_one(registry, "nested")
    assert deep.parts == ()
    assert json.loads(deep.content) == {"chart": describe(DOT)}


def test_secrets_are_hidden_and_long_texts_cut_in_text_parts() -> None:
    @tool(secrets=["CHART_TOKEN"])
    def leaky() -> tuple[str, Image]:
        """Leaks its token beside an image."""
        return ("token s3cr3t-value used", DOT)

    @tool
    def wordy() -> list[Any]:
        """A long text and an image."""
        return ["x" * 500, DOT]

    registry = Registry(
        [leaky, wordy], secrets={"CHART_TOKEN": "s3cr3t-value"}, max_content_chars=100
    )
    hidden = run_one(registry, "leaky")
    assert hidden.parts == ("token [secret] used", DOT)
    assert "s3cr3t" not in hidden.content
    cut = run_one(registry, "wordy")
    assert isinstance(cut.parts[0], str)
    assert len(cut.parts[0]) < 200
    assert cut.parts[1] == DOT
    assert len(cut.content) < 200


def test_a_serializer_may_give_parts() -> None:
    @tool(serializer=lambda value: cast("str", [f"{value} dots", DOT]))
    def dots() -> int:
        """Count the dots."""
        return 3

    @tool(serializer=lambda value: cast("str", 42))
    def broken() -> int:
        """A serializer that gives neither text nor parts."""
        return 1

    registry = Registry([dots, broken])
    assert run_one(registry, "dots").parts == ("3 dots", DOT)
    failed = run_one(registry, "broken")
    assert failed.is_error
    assert "not str, Image, File or a list of them" in failed.content


# -- each codec's native form --------------------------------------------------------------------

LINK = Image(url="https://example.com/dot.png")
ZIP = File(b"PK\x03\x04", media_type="application/zip", filename="data.zip")


def test_anthropic_tool_result_holds_text_image_and_document_blocks() -> None:
    notes = File(b"line one", media_type="text/plain", filename="notes.txt")
    done = result("Here:", DOT, LINK, REPORT, notes, File(url="https://x.org/r.pdf"), "")
    [message] = get_format("anthropic").result_messages([done])
    assert message == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "c1",
                "content": [
                    {"type": "text", "text": "Here:"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG64},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/dot.png"},
                    },
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": PDF64,
                        },
                        "title": "report.pdf",
                    },
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "line one"},
                        "title": "notes.txt",
                    },
                    {"type": "document", "source": {"type": "url", "url": "https://x.org/r.pdf"}},
                ],
            }
        ],
    }


def test_anthropic_reports_a_file_type_it_cannot_carry() -> None:
    with pytest.warns(ContentLossWarning) as caught:
        [message] = get_format("anthropic").result_messages([result("data", ZIP)])
    blocks = message["content"][0]["content"]
    assert blocks[1] == {
        "type": "text",
        "text": "[file: data.zip, application/zip, 4 bytes; left out: this protocol cannot carry"
        " it in a tool result]",
    }
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "anthropic" in text
    assert "'chart'" in text
    assert "'c1'" in text
    assert "application/zip" in text


def test_responses_output_is_a_list_of_input_items() -> None:
    done = result(
        "Here:",
        DOT,
        LINK,
        REPORT,
        File(url="https://x.org/r.pdf"),
        File(b"a,b", media_type="text/csv"),
    )
    [item] = get_format("openai-responses").result_messages([done])
    assert item == {
        "type": "function_call_output",
        "call_id": "c1",
        "output": [
            {"type": "input_text", "text": "Here:"},
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG64}"},
            {"type": "input_image", "image_url": "https://example.com/dot.png"},
            {
                "type": "input_file",
                "filename": "report.pdf",
                "file_data": f"data:application/pdf;base64,{PDF64}",
            },
            {"type": "input_file", "file_url": "https://x.org/r.pdf"},
            {
                "type": "input_file",
                "filename": "file.csv",
                "file_data": "data:text/csv;base64,YSxi",
            },
        ],
    }


def test_chat_sends_media_in_one_user_message_after_all_tool_messages() -> None:
    plain = ToolResult("c0", "add", 5, "5")
    first = result("Here:", DOT, call_id="c1")
    second = result(REPORT, LINK, call_id="c2", name="report")
    messages = get_format("openai").result_messages([plain, first, second])
    assert messages == [
        {"role": "tool", "tool_call_id": "c0", "content": "5"},
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": f"Here:\n[image: image/png, {len(PNG)} bytes]",
        },
        {
            "role": "tool",
            "tool_call_id": "c2",
            "content": "[file: report.pdf, application/pdf, 31 bytes]\n"
            "[image: image/png, https://example.com/dot.png]",
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "The images and files returned by the call c1 of tool chart:",
                },
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG64}"}},
                {
                    "type": "text",
                    "text": "The images and files returned by the call c2 of tool report:",
                },
                {
                    "type": "file",
                    "file": {
                        "filename": "report.pdf",
                        "file_data": f"data:application/pdf;base64,{PDF64}",
                    },
                },
                {"type": "image_url", "image_url": {"url": "https://example.com/dot.png"}},
            ],
        },
    ]


def test_chat_reports_files_it_cannot_carry_and_sends_no_empty_user_message() -> None:
    with pytest.warns(ContentLossWarning, match="openai.*application/zip, text/csv"):
        messages = get_format("openai").result_messages(
            [result(ZIP, File(b"a", media_type="text/csv"), File(url="https://x.org/r.pdf"))]
        )
    [tool_message] = messages
    assert tool_message["content"].count("left out") == 3


def test_workers_ai_carries_text_only_and_reports_the_loss() -> None:
    with pytest.warns(ContentLossWarning) as caught:
        messages = get_format("workers-ai").result_messages([result("Here:", DOT, REPORT)])
    assert messages == [
        {
            "role": "tool",
            "name": "chart",
            "tool_call_id": "c1",
            "content": f"Here:\n[image: image/png, {len(PNG)} bytes; left out: this protocol cannot"
            " carry it in a tool result]\n[file: report.pdf, application/pdf, 31 bytes; left out:"
            " this protocol cannot carry it in a tool result]",
        }
    ]
    assert len(caught) == 1  # once per result
    assert "workers-ai" in str(caught[0].message)
    assert "2 images or files" in str(caught[0].message)


def test_gemini_function_response_carries_inline_parts() -> None:
    gif = Image(b"GIF89a", media_type="image/gif")
    with pytest.warns(ContentLossWarning, match="gemini.*image/gif, image/png"):
        [content] = get_format("gemini").result_messages([result("Here:", DOT, REPORT, gif, LINK)])
    assert content == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": "chart",
                    "id": "c1",
                    "response": {
                        "result": f"Here:\n[image: image/png, {len(PNG)} bytes]\n"
                        "[file: report.pdf, application/pdf, 31 bytes]\n"
                        "[image: image/gif, 6 bytes; left out: this protocol cannot carry it in a"
                        " tool result]\n[image: image/png, https://example.com/dot.png; left out:"
                        " this protocol cannot carry it in a tool result]"
                    },
                    "parts": [
                        {"inlineData": {"mimeType": "image/png", "data": PNG64}},
                        {"inlineData": {"mimeType": "application/pdf", "data": PDF64}},
                    ],
                }
            }
        ],
    }


def test_mcp_result_holds_image_content_and_resources() -> None:
    done = ToolResult("c1", "chart", [DOT], "x", parts=("Here:", DOT, REPORT, LINK))
    [message] = get_format("mcp").result_messages([done])
    assert message == {
        "content": [
            {"type": "text", "text": "Here:"},
            {"type": "image", "data": PNG64, "mimeType": "image/png"},
            {
                "type": "resource",
                "resource": {
                    "uri": "toolkit://results/c1/report.pdf",
                    "mimeType": "application/pdf",
                    "blob": PDF64,
                },
            },
            {
                "type": "resource_link",
                "uri": "https://example.com/dot.png",
                "name": "dot.png",
                "mimeType": "image/png",
            },
        ],
        "isError": False,
        "structuredContent": {"result": [describe(DOT)]},
    }


def test_text_only_results_are_unchanged_in_every_codec() -> None:
    plain = ToolResult("c1", "add", 5, "5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("openai", "openai-responses", "anthropic", "workers-ai", "gemini", "mcp"):
            assert "5" in json.dumps(get_format(name).result_messages([plain]))


# -- the runner, over the real SDK clients and the fake servers ----------------------------------


@pytest.fixture
def server() -> Any:
    with FakeServer() as fake:
        yield fake


def _script(server: FakeServer) -> None:
    server.script([Reply.calls(Call("chart", {}, id="call_1")), Reply.text("A red dot.")])


def test_chat_completions_runner_sends_the_image_in_a_user_message(server: FakeServer) -> None:
    _script(server)
    with openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0) as client:
        done = Runner(client, model=MODEL, tools=[chart]).run("Draw the chart")
    assert done.text == "A red dot."
    messages = cast("dict[str, Any]", server.requests_for("openai_chat")[1].body)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "user"]
    assert messages[3]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG64}"},
    }


def test_responses_runner_sends_an_input_image(server: FakeServer) -> None:
    _script(server)
    with openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0) as client:
        done = Runner(OpenAIResponses(client), model=MODEL, tools=[chart]).run("Draw the chart")
    assert done.text == "A red dot."
    items = cast("dict[str, Any]", server.requests_for("openai_responses")[1].body)["input"]
    [output] = [item for item in items if item.get("type") == "function_call_output"]
    assert output["output"] == [
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG64}"}
    ]


def test_anthropic_runner_sends_an_image_block(server: FakeServer) -> None:
    server.script([Reply.calls(Call("summary", {}, id="toolu_1")), Reply.text("Seen.")])
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    ) as client:
        done = Runner(client, model=MODEL, tools=[summary]).run("Summarise")
    assert done.text == "Seen."
    messages = cast("dict[str, Any]", server.requests_for("anthropic")[1].body)["messages"]
    [block] = messages[2]["content"]
    kinds = [b["type"] for b in block["content"]]
    assert kinds == ["text", "image", "text", "document", "text"]
    assert block["content"][1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": PNG64,
    }


BAD = Image(b"not a png at all", media_type="image/png")  # the bytes are no PNG


@tool
def broken() -> Image:
    """Returns bytes that are not the image they claim."""
    return BAD


def test_the_anthropic_fake_server_refuses_what_the_api_refuses(server: FakeServer) -> None:
    server.script([Reply.calls(Call("broken", {}, id="toolu_1"))])
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    ) as client:
        with pytest.raises(anthropic.BadRequestError, match="Could not process image"):
            Runner(client, model=MODEL, tools=[broken]).run("go")
        use: dict[str, Any] = {"type": "tool_use", "id": "t1", "name": "f", "input": {}}
        for content, match in [
            ([{"type": "text", "text": ""}], "text content blocks must be non-empty"),
            (
                [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/bmp", "data": PNG64},
                    }
                ],
                "media_type: Input should be",
            ),
            (
                [
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": PNG64,
                        },
                    }
                ],
                "PDF specified was not valid",
            ),
            ([{"type": "video"}], "does not match any of the expected tags"),
        ]:
            messages: list[dict[str, Any]] = [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": [use]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": content}],
                },
            ]
            with pytest.raises(anthropic.BadRequestError, match=match):
                client.messages.create(model=MODEL, max_tokens=10, messages=cast("Any", messages))


def test_the_openai_fake_servers_refuse_what_the_apis_refuse(server: FakeServer) -> None:
    server.script([Reply.calls(Call("broken", {}, id="call_1"))])
    with openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError, match="unsupported image"):
            Runner(client, model=MODEL, tools=[broken]).run("go")
        asked = {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        image = {"type": "image_url", "image_url": {"url": DOT.data_url()}}
        history = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [asked]},
            {"role": "tool", "tool_call_id": "call_9", "content": [image]},
        ]
        with pytest.raises(openai.BadRequestError, match="only allowed for messages with role"):
            client.chat.completions.create(model=MODEL, messages=cast("Any", history))
        text_file = {
            "type": "file",
            "file": {"filename": "a.txt", "file_data": "data:text/plain;base64,YQ=="},
        }
        history[2] = {"role": "tool", "tool_call_id": "call_9", "content": "see below"}
        history.append({"role": "user", "content": [text_file]})
        with pytest.raises(openai.BadRequestError, match=r"supported format: \.pdf"):
            client.chat.completions.create(model=MODEL, messages=cast("Any", history))
        call_item = {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
        for output, match in [
            (
                [{"type": "input_file", "file_data": f"data:application/pdf;base64,{PDF64}"}],
                "Missing required parameter",
            ),
            (
                [{"type": "input_image", "image_url": "data:text/plain;base64,YQ=="}],
                "unsupported MIME type",
            ),
            ([{"type": "output_text", "text": "x"}], "Invalid value: 'output_text'"),
        ]:
            items = [call_item, {"type": "function_call_output", "call_id": "c", "output": output}]
            with pytest.raises(openai.BadRequestError, match=match):
                client.responses.create(model=MODEL, input=cast("Any", items))


def test_workers_ai_runner_warns_of_the_loss(server: FakeServer) -> None:
    server.script([Reply.calls(Call("chart", {}, id="call_1")), Reply.text("I cannot see it.")])
    client = WorkersAI(server.account_id, "token", base_url=f"{server.base_url}/client/v4")
    with (
        client,
        pytest.warns(
            ContentLossWarning, match="workers-ai.*tool 'chart' .*one image \\(image/png\\)"
        ),
    ):
        done = Runner(client, model="@cf/meta/llama", tools=[chart]).run("Draw the chart")
    assert done.text == "I cannot see it."
    messages = cast("dict[str, Any]", server.requests_for("workers_ai")[1].body)["messages"]
    assert "left out" in messages[-1]["content"]


# -- a pause keeps its images --------------------------------------------------------------------


def _paused_with_an_image() -> tuple[Runner, PendingApproval]:
    @tool(needs_approval=True)
    def publish() -> str:
        """Publish the chart."""
        return "published"

    model = ScriptedModel([[call("chart"), call("publish")], "Done."], format="anthropic")
    runner = Runner(model, model="m", tools=[chart, publish])
    paused = runner.run("chart and publish")
    assert paused.stop_reason == "approval_required"
    assert paused.pending is not None
    return runner, paused.pending


def test_a_pause_keeps_an_image_through_json() -> None:
    runner, pending = _paused_with_an_image()
    restored = PendingApproval.from_json(pending.to_json())
    done = runner.resume(restored, {restored.calls[0].id: Approve()})
    assert done.text == "Done."
    [results] = [
        m["content"]
        for m in done.messages
        if m["role"] == "user" and isinstance(m["content"], list)
    ]
    image = results[0]["content"][0]
    assert image == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG64},
    }


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("url", "data:image/png;base64,@@@", "not valid base64"),
        ("url", "file:///etc/passwd", r"http\(s\):// or data:"),
        ("media_type", "text/html", "differs from the data: URL"),
        ("kind", "video", "'image' or 'file'"),
    ],
)
def test_a_tampered_image_in_a_saved_pause_is_refused(field: str, value: str, match: str) -> None:
    _, pending = _paused_with_an_image()
    state = json.loads(pending.to_json())
    [saved] = [r for r in state["results"] if r is not None]
    saved["parts"][0][field] = value
    with pytest.raises(StateError, match=match):
        PendingApproval.from_json(json.dumps(state))


# -- MCP -----------------------------------------------------------------------------------------


def test_toolkits_mcp_server_sends_image_content() -> None:
    pytest.importorskip("mcp")
    from mcp import Client
    from mcp.types import (
        BlobResourceContents,
        CallToolResult,
        EmbeddedResource,
        ImageContent,
        TextContent,
    )

    from toolkit.mcp import mcp_server

    server = mcp_server(Registry([summary, chart]))

    async def session() -> tuple[CallToolResult, CallToolResult]:
        async with Client(server) as client:
            return await client.call_tool("summary", {}), await client.call_tool("chart", {})

    mixed, alone = anyio.run(session)
    assert [type(b) for b in mixed.content] == [
        TextContent,
        ImageContent,
        TextContent,
        EmbeddedResource,
        TextContent,
    ]
    image = mixed.content[1]
    assert isinstance(image, ImageContent)
    assert (image.data, image.mime_type) == (PNG64, "image/png")
    resource = mixed.content[3]
    assert isinstance(resource, EmbeddedResource)
    assert isinstance(resource.resource, BlobResourceContents)
    assert re.fullmatch(r"toolkit://results/\d+/report\.pdf", resource.resource.uri)
    assert resource.resource.blob == PDF64
    assert [type(b) for b in alone.content] == [ImageContent]
    assert alone.structured_content == {"result": describe(DOT)}  # its outputSchema: a string


def test_mcp_clients_images_and_blobs_become_parts() -> None:
    pytest.importorskip("mcp")
    from mcp.types import CallToolResult

    from toolkit.mcp import MCPClient, Stdio

    script = str(Path(__file__).parent / "_mcp_remote.py")
    with MCPClient({"well": Stdio(sys.executable, [script, "well"])}) as client:
        image = run_one(client.registry, "image")
        resource = run_one(client.registry, "resource")
    assert isinstance(image.value, CallToolResult)
    [picture, text] = image.parts
    assert isinstance(picture, Image)
    assert picture.media_type == "image/png"
    assert picture.data is not None
    assert picture.data.startswith(b"\x89PNG")
    assert text == "a red dot"
    note, blob = resource.parts
    assert note == "[resource note://hello (text/plain)]\nhello from a resource"
    assert blob == File(b"\x00\x01\x02", media_type="application/octet-stream", filename="data.bin")
    # and a runner forwards them natively: the Anthropic codec's image block
    [message] = get_format("anthropic").result_messages([image])
    assert message["content"][0]["content"][0]["type"] == "image"

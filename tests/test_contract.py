"""The core's contract: one declared codec contract that every codec meets, a loop that knows
no protocol, an immutable ``Tool``, a registry that uses the Tool's public surface only, and
the defects found by trying toolkit as a new user (one regression test each)."""

from __future__ import annotations

import ast
import asyncio
import inspect
import pydoc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import toolkit
from toolkit import (
    ArgumentsDelta,
    Limits,
    Registry,
    Runner,
    StepFinished,
    Tool,
    ToolCall,
    ToolCallStarted,
    ToolDefinitionError,
    ToolResultEvent,
    tool,
)
from toolkit.formats import ConversationCodec, StreamAssembler, ToolCodec, get_format
from toolkit.formats.anthropic import CODEC as ANTHROPIC
from toolkit.formats.gemini import CODEC as GEMINI
from toolkit.formats.mcp import CODEC as MCP
from toolkit.formats.openai_chat import CODEC as CHAT
from toolkit.formats.openai_responses import CODEC as RESPONSES
from toolkit.formats.workers_ai import CODEC as WORKERS_AI
from toolkit.model import ModelReply, ModelRequest, StreamDelta
from toolkit.testing import FunctionModel, ScriptedModel, call

PACKAGE = Path(toolkit.__file__).parent

# -- 1. the codec contract, checked by pyright on every codec --------------------------------------

# These assignments are the check: pyright (strict, over tests/) refuses any codec that does
# not match its protocol, method by method.
_CHAT: ConversationCodec = CHAT
_RESPONSES: ConversationCodec = RESPONSES
_ANTHROPIC: ConversationCodec = ANTHROPIC
_WORKERS_AI: ConversationCodec = WORKERS_AI
_GEMINI: ConversationCodec = GEMINI
_MCP: ToolCodec = MCP
_ASSEMBLERS: list[StreamAssembler] = [
    CHAT.stream_assembler(),
    RESPONSES.stream_assembler(),
    ANTHROPIC.stream_assembler(),
    WORKERS_AI.stream_assembler(),
    GEMINI.stream_assembler(),
]
CONVERSATION_CODECS = [_CHAT, _RESPONSES, _ANTHROPIC, _WORKERS_AI, _GEMINI]


def _protocol_methods(protocol: type) -> set[str]:
    return {
        n for n in vars(protocol) if not n.startswith("_") and callable_or_property(protocol, n)
    }


def callable_or_property(owner: type, name: str) -> bool:
    member = inspect.getattr_static(owner, name)
    return callable(member) or isinstance(member, property)


@pytest.mark.parametrize("codec", CONVERSATION_CODECS, ids=lambda c: c.name)
def test_every_conversation_codec_has_the_whole_contract_and_nothing_undeclared(
    codec: ConversationCodec,
) -> None:
    declared = _protocol_methods(ConversationCodec) | _protocol_methods(ToolCodec)
    public = {n for n in dir(codec) if not n.startswith("_")}
    assert declared <= public
    assert public - declared == set(), "a public method the contract does not declare"
    assert get_format(codec.name) is codec


@pytest.mark.parametrize("codec", [_MCP], ids=lambda c: c.name)
def test_tool_codecs_have_the_tool_side(codec: ToolCodec) -> None:
    public = {n for n in dir(codec) if not n.startswith("_")}
    assert _protocol_methods(ToolCodec) == public


def test_backends_expose_their_codec() -> None:
    from toolkit import AnthropicMessages, OpenAIChat, OpenAIResponses, WorkersAI

    class Client:
        class messages:
            @staticmethod
            def create(**kwargs: Any) -> Any:
                return kwargs

    assert OpenAIChat(object()).codec is CHAT
    assert OpenAIResponses(object()).codec is RESPONSES
    assert AnthropicMessages(Client()).codec is ANTHROPIC
    assert WorkersAI("account", "token").codec is WORKERS_AI

    from toolkit.backends.gemini import GeminiBackend

    class GenAI:
        class models:
            @staticmethod
            def generate_content(**kwargs: Any) -> Any:
                return kwargs

    assert GeminiBackend(GenAI()).codec is GEMINI


@pytest.mark.parametrize("codec", CONVERSATION_CODECS, ids=lambda c: c.name)
def test_history_operations_find_and_answer_open_calls(codec: ConversationCodec) -> None:
    calls = [
        ToolCall(id="c1", name="f", arguments="{}"),
        ToolCall(id="c2", name="g", arguments="{}"),
    ]
    history: list[Any] = [codec.user_message("hi")]
    codec.append_messages(history, codec.assistant_message("Let me look.", calls))
    assert [c.id for c in codec.unanswered_calls(history)] == ["c1", "c2"]
    from toolkit.calls import ToolResult

    answer = ToolResult(call_id="c1", name="f", value=1, content="1")
    codec.append_messages(history, codec.result_messages([answer]))
    assert [c.id for c in codec.unanswered_calls(history)] == ["c2"]
    hostile_histories: list[list[Any]] = [
        [1, "x", None],
        [{"role": "assistant", "tool_calls": "x"}],
        [{}],
    ]
    for hostile in hostile_histories:
        assert codec.unanswered_calls(hostile) == []


# -- 2. the loop knows no protocol -----------------------------------------------------------------

# Field names and values of the protocols, as they would appear spelled in code.
PROTOCOL_WORDS = {
    "tool_call_id",
    "tool_calls",
    "function",
    "function_call",
    "function_call_output",
    "call_id",
    "tool_use",
    "tool_use_id",
    "tool_result",
    "role",
    "content",
    "assistant",
    "user",
    "tool",
    "input",
    "type",
    "message",
    "output",
}


@pytest.mark.parametrize("module", ["_loop.py", "_runner.py", "_state.py", "_conversation.py"])
def test_the_runner_spells_no_protocol_field(module: str) -> None:
    tree = ast.parse((PACKAGE / "runner" / module).read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    literals = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    }
    assert sorted(literals & PROTOCOL_WORDS) == []


# -- 3. the registry uses the Tool's public surface ------------------------------------------------


def test_the_registry_reads_no_private_attribute_of_a_tool() -> None:
    tree = ast.parse((PACKAGE / "registry.py").read_text())
    private = sorted(
        {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "_feedback"))
        }
    )
    assert private == []


# -- 4. an immutable Tool --------------------------------------------------------------------------


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_a_tool_is_read_only() -> None:
    for name, value in [("name", "renamed"), ("description", "x"), ("strict", True)]:
        with pytest.raises(AttributeError, match=r"read-only: use tool\.with_options"):
            setattr(add, name, value)
    with pytest.raises(AttributeError):
        del add.name  # type: ignore[misc]
    assert add.name == "add"


def test_with_options_returns_a_renamed_copy_with_its_own_cache() -> None:
    assert add.definition("openai")["function"]["name"] == "add"  # cached on the original
    renamed = add.with_options(name="plus", description="Sum.", timeout=2.0)
    assert (renamed.name, renamed.description, renamed.timeout) == ("plus", "Sum.", 2.0)
    assert renamed.definition("openai")["function"]["name"] == "plus"
    assert add.definition("openai")["function"]["name"] == "add"
    registry = Registry([renamed])
    assert registry.names == ["plus"]
    [result] = registry.execute([ToolCall(id="1", name="plus", arguments='{"a": 1, "b": 2}')])
    assert result.content == "3"
    assert renamed(1, 2) == 3
    with pytest.raises(ToolDefinitionError, match="not a usable tool name"):
        add.with_options(name="no spaces please")


def test_method_tools_still_bind_and_keep_their_type() -> None:
    class Calculator:
        @tool
        def double(self, value: int) -> int:
            """Double a value."""
            return value * 2

    bound = Calculator().double
    assert isinstance(bound, Tool)
    assert bound(4) == 8
    assert bound.call({"value": 5}) == 10


def test_a_tool_shows_the_functions_doc_and_module() -> None:
    assert add.__doc__ == "Add two integers."
    assert add.__module__ == __name__
    assert Tool.__module__ == "toolkit.tool"
    assert Tool.__doc__ is not None
    assert Tool.__doc__.startswith("A callable with a name")
    assert "Add two integers." in pydoc.render_doc(add)


# -- 6. defects found by a new user ----------------------------------------------------------------


def test_an_approve_callback_may_answer_true_or_false() -> None:
    @tool(needs_approval=True)
    def pay(to: str) -> str:
        """Pay."""
        return f"paid {to}"

    model = ScriptedModel([[call("pay", to="Ada"), call("pay", to="Eve")], "done"])
    runner = Runner(model, tools=[pay], approve=lambda c: "Ada" in str(c.arguments))
    assert [r.content for r in runner.run("pay").tool_results] == [
        "paid Ada",
        "The user denied this call.",
    ]
    odd = Runner(
        ScriptedModel([call("pay", to="Ada")]),
        tools=[pay],
        approve=lambda c: "yes",  # pyright: ignore[reportArgumentType] - the mistake tested
    )
    with pytest.raises(TypeError, match="approve decision must be Approve"):
        odd.run("pay")


def test_new_messages_follow_one_rule() -> None:
    earlier = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    as_history = Runner(ScriptedModel(["x"])).run("next", history=list(earlier))
    user = {"role": "user", "content": "next"}
    assert as_history.new_messages == [user, {"role": "assistant", "content": "x"}]
    as_prompt = Runner(ScriptedModel(["x"])).run([*earlier, user])
    assert as_prompt.new_messages == [*earlier, user, {"role": "assistant", "content": "x"}]
    assert as_prompt.messages == as_history.messages


def test_anthropic_strict_limits_are_checked_per_request() -> None:
    def make(i: int) -> Tool[..., Any]:
        def f(a: int | None = None, b: int | None = None, c: str = "") -> str:
            return ""

        return tool(f, name=f"tool_{i}", strict=True)

    registry = Registry([make(i) for i in range(9)])  # 27 optional, 18 union-typed
    with pytest.raises(ToolDefinitionError) as caught:
        registry.definitions("anthropic")
    text = str(caught.value)
    assert "27 optional parameters, more than 24" in text
    assert "18 union-typed parameters, more than 16" in text
    assert "tool_0 (3 optional, 2 union-typed)" in text
    assert len(registry.definitions("anthropic", strict=False)) == 9
    assert len(registry.definitions("openai")) == 9  # OpenAI has no such limit


def test_refusals_interruptions_and_vetoes_have_their_own_kinds() -> None:
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "ok"])
    result = Runner(model, tools=[add], limits=Limits(max_tool_calls=1)).run("x")
    assert [r.error.kind if r.error else None for r in result.tool_results] == [None, "refused"]


def test_results_the_runner_writes_go_through_events_and_hooks() -> None:
    seen: list[str] = []
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "ok"])
    runner = Runner(
        model,
        tools=[add],
        limits=Limits(max_tool_calls=1),
        on_tool_end=lambda results: seen.extend(r.content for r in results),
    )
    events = list(runner.stream("x"))
    streamed = [e.result.content for e in events if isinstance(e, ToolResultEvent)]
    refusal = "Not run: the limit of 1 tool calls was reached."
    assert streamed == ["2", refusal]
    assert seen == ["2", refusal]
    assert sum(isinstance(e, StepFinished) for e in events) == 1


def test_the_repeat_refusal_counts_the_runs() -> None:
    model = FunctionModel(lambda r: call("add", a=1, b=1))
    result = Runner(model, tools=[add], limits=Limits(max_repeats=3, max_steps=10)).run("x")
    refusals = [r.content for r in result.tool_results if r.is_error]
    assert len(refusals) == 2
    assert all("already called with these arguments 3 times" in text for text in refusals)
    once = Runner(FunctionModel(lambda r: call("add", a=1, b=1)), tools=[add])
    text = once.run("x", limits=Limits(max_repeats=1)).tool_results[1].content
    assert "already called with these arguments once" in text


def test_a_runner_takes_a_single_tool_and_names_it_in_validation_errors() -> None:
    assert Runner(ScriptedModel([]), tools=add).registry.names == ["add"]
    with pytest.raises(ValidationError, match=r"validation error for add\b"):
        add.validate({"a": "x", "b": 1})


# -- 7. the API a newcomer reaches for -------------------------------------------------------------


def test_testing_models_need_no_model_name_and_hosted_apis_do() -> None:
    assert Runner(ScriptedModel(["hi"])).run("hello").text == "hi"
    openai = pytest.importorskip("openai")
    with pytest.raises(TypeError, match=r"pass the model name, Runner\(client, model='...'\)"):
        Runner(openai.OpenAI(api_key="k", base_url="http://127.0.0.1:9"))


def test_resume_takes_the_saved_json() -> None:
    @tool(needs_approval=True)
    def pay(to: str) -> str:
        """Pay."""
        return f"paid {to}"

    paused = Runner(ScriptedModel([call("pay", to="Ada")]), tools=[pay]).run("pay")
    assert paused.pending is not None
    saved = paused.pending.to_json()
    waiting = paused.pending.calls[0]
    result = Runner(ScriptedModel(["done"]), tools=[pay]).resume(saved, {waiting: True})
    assert result.tool_results[0].content == "paid Ada"
    assert result.tool_calls == [waiting]  # the resumed step is the run's first
    assert result.steps[0].calls == (waiting,)


def test_one_naming_convention_for_async() -> None:
    for owner in (toolkit.Runner, toolkit.Conversation, toolkit.Registry, toolkit.Tool):
        names = [n for n in dir(owner) if not n.startswith("_")]
        assert [n for n in names if re.match(r"^a(run|stream|send|resume|call|complete)", n)] == []
    assert {"run_async", "stream_async", "resume_async"} <= set(dir(toolkit.Runner))


class _LateIds:
    """A backend that streams a call whose id comes only with the whole reply."""

    codec = get_format("openai")

    def complete(self, request: ModelRequest) -> ModelReply:
        return next(r for r in self.stream(request) if isinstance(r, ModelReply))

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]:
        if any(m.get("role") == "tool" for m in request.messages):
            yield ModelReply(message=self.codec.assistant_message("ok"), text="ok")
            return
        yield StreamDelta(call_index=0, call_name="add")
        yield StreamDelta(call_index=0, arguments='{"a": 1,')
        yield StreamDelta(call_index=0, arguments=' "b": 2}')
        calls = (ToolCall(id="late", name="add", arguments='{"a": 1, "b": 2}'),)
        yield ModelReply(
            message=self.codec.assistant_message("", calls), calls=calls, stop="tool_calls"
        )


def test_every_call_event_carries_the_calls_id() -> None:
    events = list(Runner(_LateIds(), tools=[add]).stream("x"))
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    deltas = [e for e in events if isinstance(e, ArgumentsDelta)]
    assert [(e.id, e.name) for e in started] == [("late", "add")]
    assert {e.id for e in deltas} == {"late"}
    assert "".join(e.delta for e in deltas) == '{"a": 1, "b": 2}'


def test_async_runs_use_the_same_rules() -> None:
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "ok"])
    runner = Runner(model, tools=[add], limits=Limits(max_tool_calls=1))
    result = asyncio.run(runner.run_async("x"))
    assert [r.error.kind if r.error else None for r in result.tool_results] == [None, "refused"]

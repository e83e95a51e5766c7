"""Typed answers, a conversation that recovers and a request timeout, against a real model.

These run only in ``nox -s local_model``, which serves a small open model (Qwen2.5-Coder
1.5B, llama.cpp's server) on 127.0.0.1 and sets ``TOOLKIT_BASE_URL`` and ``TOOLKIT_MODEL``;
elsewhere they skip. A small model phrases and chooses freely, so they check what toolkit
guarantees (a validated answer, a usable history, a cancelled request), not its words.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import openai
import pytest
from pydantic import BaseModel

from toolkit import Limits, Runner, tool

BASE_URL = os.environ.get("TOOLKIT_BASE_URL")
MODEL = os.environ.get("TOOLKIT_MODEL", "")

pytestmark = pytest.mark.skipif(
    BASE_URL is None, reason="needs the local model (nox -s local_model)"
)


@pytest.fixture
def client() -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=BASE_URL, api_key=os.environ.get("TOOLKIT_API_KEY", "local"), max_retries=0
    ) as made:
        yield made


class City(BaseModel):
    name: str
    country: str
    population_millions: float


def test_a_typed_answer_in_the_servers_structured_output(client: openai.OpenAI) -> None:
    runner = Runner(client, model=MODEL, output_type=City, output_mode="native")
    result = runner.run(
        "Give the name, country and population in millions of the capital of France.",
        settings={"max_tokens": 200, "temperature": 0},
    )
    assert result.stop_reason == "end", result.explanation
    assert isinstance(result.output, City)


@tool
def get_population(city: str) -> str:
    """Get a city's population, in millions.

    Args:
        city: The city's name.
    """
    return f"{city}: 2.1 million"


def test_a_typed_answer_through_the_final_answer_tool(client: openai.OpenAI) -> None:
    runner = Runner(
        client,
        model=MODEL,
        tools=[get_population],
        output_type=City,
        limits=Limits(max_steps=6, max_retries=3),
        settings={"max_tokens": 300, "temperature": 0},
    )
    result = runner.run("Look up the population of Paris, then give your final answer.")
    # A 1.5B model may not manage the structure within its retries; when it does, the
    # answer is a validated City, and when it does not, the run says so.
    assert result.stop_reason in ("end", "max_retries", "max_steps"), result.explanation
    if result.stop_reason == "end":
        assert isinstance(result.output, City)
    else:
        assert result.output is None
        assert result.explanation


@tool
def read_log() -> str:
    """Read the whole server log."""
    return "GET /index.html 200 0.003s\n" * 2_000  # about 13,000 tokens: past the context


def test_a_turn_past_the_context_window_rolls_back_and_the_conversation_goes_on(
    client: openai.OpenAI,
) -> None:
    runner = Runner(
        client,
        model=MODEL,
        tools=[read_log],
        settings={"max_tokens": 100, "temperature": 0},
        tool_choice="read_log",
    )
    chat = runner.conversation()
    with pytest.raises(openai.BadRequestError):
        chat.send("Read the server log and summarise it.")
    assert chat.messages == []  # the turn that could not be sent is not kept

    answered = chat.send("Say hello.", tool_choice="none")
    assert answered.stop_reason == "end", answered.explanation
    assert answered.text


def test_a_request_past_its_timeout_is_cancelled(client: openai.OpenAI) -> None:
    runner = Runner(client, model=MODEL, settings={"max_tokens": 4_000, "timeout": 0.5})
    result = runner.run("Write a long essay about the history of the printing press.")
    assert result.stop_reason == "timeout"
    assert "ran out of time" in result.explanation

"""A scripted fake of the model providers' HTTP APIs, for driving the real SDK clients in tests.

``FakeServer`` listens on ``127.0.0.1`` (a free port) and speaks five wire protocols:

* ``"openai_chat"``: ``POST /v1/chat/completions`` (client ``base_url``: ``openai_base_url``)
* ``"openai_responses"``: ``POST /v1/responses`` (``openai_base_url``)
* ``"anthropic"``: ``POST /v1/messages`` (``anthropic_base_url``)
* ``"workers_ai"``: ``POST /client/v4/accounts/{account_id}/ai/run/{model}`` (POST to
  ``f"{server.workers_ai_base_url}/{model}"`` with ``Authorization: Bearer …``)
* ``"gemini"``: ``POST /v1beta/models/{model}:generateContent`` and
  ``:streamGenerateContent`` (also under ``/v1``; ``google.genai.Client`` ``base_url``:
  ``gemini_base_url``). See ``_gemini.py`` for what it checks (thought signatures included).

Each answer is rendered from a protocol-neutral :class:`Reply`, non-streaming or streaming (SSE)
as the request asks, in the shapes the live APIs send. Every request is validated first, like
the live APIs do, and rejected with the provider's error JSON (status 400, or 401 without an
API key) so the SDKs raise their own ``BadRequestError`` / ``AuthenticationError``.

Scripting
---------
Queue the model's turns, then drive a real client::

    from fakeserver import Call, FakeServer, Reply

    with FakeServer() as server:
        server.script(
            [
                Reply.calls(Call("get_weather", {"city": "Paris"}), Call("get_time", {})),
                Reply.text("It is sunny in Paris."),
            ]
        )
        with openai.OpenAI(
            base_url=server.openai_base_url, api_key="test", max_retries=0
        ) as client:
            first = client.chat.completions.create(model="m", messages=[...], tools=[...])
            ...  # run the tools, append the assistant message and the tool messages
            second = client.chat.completions.create(model="m", messages=[...], tools=[...])
        assert server.requests[1].body["messages"][-1]["role"] == "tool"

* ``Reply.text("Hi")``, ``Reply.calls(Call(...), ...)``, ``Reply.text_and_calls("Let me
  check.", Call(...))`` and ``Reply.refuse("No.")`` build turns. Every constructor takes
  ``stop=`` (``"length"``: cut off by the token limit; ``"pause_turn"``; ``"refusal"``;
  ``"content_filter"``), ``input_tokens=`` and ``output_tokens=``; ``Reply.text`` also takes
  ``refusal=``. :class:`Reply` documents how each protocol renders them.
* ``Call(name, arguments, id=None)``: ``arguments`` is a mapping, or a string sent verbatim (a
  malformed string simulates broken JSON from the model). Without ``id`` the server makes one
  in the provider's style (``call_fake0001``, ``toolu_fake0002``), unique per server.
* ``server.script(fn)`` instead asks ``fn(protocol, request_json) -> Reply`` for every valid
  request, so the fake model can answer from the conversation (for instance: call a tool until
  the last message carries its result, then answer in text).
* A rejected request (400/401) never consumes a reply. A request that finds the queue empty, or
  whose callable raises, gets HTTP 500 and is remembered: leaving the ``with`` block then raises
  ``AssertionError`` listing the problems (also in ``server.failures``).

Inspecting what the client sent
-------------------------------
``server.requests`` lists every request as a :class:`RecordedRequest` (``method``, ``path``,
``headers`` with lower-case names, parsed JSON ``body``, ``protocol``, answered ``status``);
``server.requests_for("anthropic")`` filters by protocol, ``server.last_request`` is the latest,
and ``server.response_context(response_id)`` is a stored Responses API conversation.

Options
-------
``FakeServer(strict_alternation=True, chat_tool_call_index="normal", fragment_size=8,
account_id="fake-account")``:

* ``strict_alternation``: reject Anthropic requests with two same-role messages in a row (the
  live API now merges them; the fake rejects them by default to catch runner bugs).
* ``chat_tool_call_index``: ``"omit"`` drops ``index`` from streamed Chat Completions
  tool-call deltas and ``"repeat"`` puts every call at index 0, as some OpenAI-compatible
  servers do; use them to test delta assembly. Settable later as an attribute.
* ``fragment_size``: characters per streamed tool-argument fragment (arguments always arrive
  in several fragments unless they are this short).

What each endpoint checks
-------------------------
* **Chat Completions**: Bearer key; ``model``; non-empty ``messages`` with valid roles; every
  assistant ``tool_calls`` answered by ``role: "tool"`` messages with matching
  ``tool_call_id`` before any other message; no orphan tool messages; tool calls well-formed
  (string ``arguments``); ``tools`` non-empty and valid function definitions (name pattern
  and length, object ``parameters``); ``tool_choice`` and ``parallel_tool_calls`` only with
  tools; ``tool_choice`` ``none``/``auto``/``required`` or a function named in ``tools``;
  ``stream_options`` only with ``stream``.
* **Responses**: Bearer key; ``model``; ``input`` (string or items); ``previous_response_id``
  must name a stored response; every ``function_call`` answered by a ``function_call_output``
  with its ``call_id`` later in the context, and no output without its call; function tools
  and ``tool_choice`` as for Chat Completions.
* **Messages (Anthropic)**: ``x-api-key`` (or Bearer) and ``anthropic-version`` headers;
  ``model``, ``max_tokens`` and ``messages`` required; roles ``user``/``assistant``, alternating
  (see ``strict_alternation``); non-empty content except a final assistant message; each
  ``tool_use`` answered in the very next user message by ``tool_result`` blocks that come
  first in its content; no ``tool_result`` without a ``tool_use`` in the previous message;
  custom tools with a valid name and an object ``input_schema``; ``tool_choice`` type
  ``auto``/``any``/``tool``/``none``, ``any``/``tool`` only with tools, ``tool`` naming one.
* **Workers AI**: Bearer token; a body with ``messages`` or ``prompt``.

Streaming shapes
----------------
* Chat Completions: ``chat.completion.chunk`` events (role chunk, text pieces, for each tool
  call a head with ``id``/``type``/``name`` and then argument fragments, a final chunk with
  ``finish_reason``, a usage chunk with empty ``choices`` when
  ``stream_options.include_usage``), then ``data: [DONE]``.
* Responses: ``response.created``, ``response.in_progress``, per item
  ``response.output_item.added``, ``response.content_part.added`` /
  ``response.output_text.delta`` / ``.done`` / ``response.content_part.done`` (or the
  ``response.refusal.*`` events), ``response.function_call_arguments.delta`` / ``.done``,
  ``response.output_item.done``, then ``response.completed`` (or ``response.incomplete``), all
  numbered by ``sequence_number``.
* Anthropic: ``message_start``, ``ping``, per block ``content_block_start`` /
  ``content_block_delta`` (``text_delta`` or ``input_json_delta`` fragments) /
  ``content_block_stop``, ``message_delta`` (``stop_reason``, usage), ``message_stop``.
* Workers AI: ``data: {"response": …}`` events, tool calls in one event, then ``[DONE]``.
"""

from __future__ import annotations

from ._app import (
    Call,
    FakeServer,
    IndexMode,
    ProtocolName,
    RecordedRequest,
    Reply,
    Script,
    ScriptError,
    Stop,
)

__all__ = [
    "Call",
    "FakeServer",
    "IndexMode",
    "ProtocolName",
    "RecordedRequest",
    "Reply",
    "Script",
    "ScriptError",
    "Stop",
]

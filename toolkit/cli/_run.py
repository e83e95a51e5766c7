"""``toolkit run``: one prompt to a model with tools, streamed, approvals asked on the
terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from toolkit import (
    Approve,
    Decision,
    Deny,
    RunFinished,
    Runner,
    RunResult,
    TextDelta,
    ToolCall,
    ToolCallComplete,
    ToolResultEvent,
)
from toolkit.cli._common import (
    EXIT_OK,
    CommandError,
    Subparsers,
    add_command,
    add_configs_option,
    parse_configs,
)
from toolkit.cli._endpoint import ENVIRONMENT, add_options, endpoint
from toolkit.cli._targets import build_registry
from toolkit.cli._terminal import Style, printable, shorten

__all__ = ["register"]

DESCRIPTION = """\
Send PROMPT to a model with the tools of the packs and targets given, run the tools it
calls, and stream its answer as it arrives.

The answer goes to standard output; each tool call (name and arguments) and its result
(shortened) go to standard error as they happen. A call that needs approval (see --approve)
is asked about on the terminal: y runs it, anything else denies it. When standard input is
not a terminal, such a call is denied, unless --yes approves them all."""

EPILOG = f"""\
examples:
  toolkit run "What is the weather in Paris?" --pack weather --model gpt-4o-mini
  toolkit run "Tidy up my notes" --pack files --approve destructive --model claude-sonnet-4-5
  toolkit run "Weather in Oslo?" --tool weather_tools:get_forecast --model qwen2.5 --yes

exit status:
  0 the model answered; 1 the run stopped without an answer (a limit, a refusal, a failed
  request); 2 a usage error, or no endpoint configured

{ENVIRONMENT}"""

_SHOWN_CHARS = 200  # of a call's arguments or a result's content, in the transcript
_ASKED_CHARS = 4_000  # of a call, when asking whether to run it

_WHY = {
    "max_steps": "it reached its limit of model requests",
    "max_tool_calls": "it reached its limit of tool calls",
    "deadline": "its deadline passed",
    "token_budget": "it used up its token budget",
    "no_progress": "the model kept repeating a call that was refused",
    "refusal": "the model refused",
    "content_filter": "the provider's content filter withheld the output",
    "length": "the reply was cut off at the output token limit",
    "approval_required": "a call is waiting for approval",
    "error": "an error ended it",
}


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "run",
        _command,
        summary="send a prompt to a model with tools, and stream the run",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument("prompt", metavar="PROMPT", help="what the user asks")
    parser.add_argument(
        "--pack",
        metavar="NAME",
        action="append",
        default=[],
        help="offer the tools of this installed pack (repeatable)",
    )
    parser.add_argument(
        "--tool",
        metavar="TARGET",
        action="append",
        default=[],
        help="offer these tools: a TARGET as 'toolkit schema' takes it (repeatable)",
    )
    add_configs_option(parser)
    add_options(parser)
    parser.add_argument("--system", metavar="TEXT", help="the system prompt")
    parser.add_argument(
        "--approve",
        choices=("marked", "destructive", "all"),
        default="marked",
        metavar="POLICY",
        help="which calls need approval: marked (the tools marked needs_approval; the"
        " default), destructive (those and the tools annotated destructive), all",
    )
    parser.add_argument(
        "--yes", action="store_true", help="approve every call that needs approval, unasked"
    )


def _command(args: argparse.Namespace) -> int:
    chosen = endpoint(args)
    registry = build_registry(args.pack, args.tool, parse_configs(args.config))
    transcript = _Transcript(sys.stdout, sys.stderr)
    asker = _Asker(transcript, yes=args.yes)
    with chosen.client() as client:
        runner = Runner(
            client,
            model=chosen.model,
            tools=registry,
            system=args.system,
            approve=asker,
            approval=args.approve,
        )
        try:
            for event in runner.stream(args.prompt):
                transcript.show(event)
        except Exception as error:  # the SDK's errors, whatever the provider
            transcript.end_line()
            raise CommandError(f"the run failed: {type(error).__name__}: {error}") from error
    result = transcript.result
    if result is None or result.stop_reason != "end":
        reason = "no result" if result is None else result.stop_reason
        why = _WHY.get(reason, reason)
        raise CommandError(f"the run stopped without an answer: {why} ({reason})")
    return EXIT_OK


class _Transcript:
    """Writes a run as it goes: the answer's text on ``out``, calls and results on
    ``err``, each on its own line."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.style = Style.for_stream(err)
        self.result: RunResult | None = None
        self._open_line = False  # answer text written, its line not ended yet

    def show(self, event: object) -> None:
        call_arrow, result_arrow = self.style.arrows
        if isinstance(event, TextDelta):
            if event.text:
                self.out.write(printable(event.text))
                self.out.flush()
                self._open_line = not event.text.endswith("\n")
        elif isinstance(event, ToolCallComplete):
            shown = self.shorten(arguments_text(event.call))
            self.note(f"{call_arrow} {event.call.name} {shown}", "cyan")
        elif isinstance(event, ToolResultEvent):
            found = event.result
            content = self.shorten(found.content)
            if found.is_error:
                kind = found.error.kind if found.error is not None else "error"
                self.note(f"{result_arrow} {found.name} failed ({kind}): {content}", "red")
            else:
                self.note(f"{result_arrow} {found.name}: {content}", "dim")
        elif isinstance(event, RunFinished):
            self.result = event.result
            self.end_line()

    def note(self, text: str, colour: str) -> None:
        """A line on ``err``, after the answer's line is ended."""
        self.end_line()
        self.err.write(self.style.paint(text, colour) + "\n")
        self.err.flush()

    def end_line(self) -> None:
        if self._open_line:
            self.out.write("\n")
            self.out.flush()
            self._open_line = False

    def shorten(self, text: str) -> str:
        return shorten(text, _SHOWN_CHARS, self.style.ellipsis)


class _Asker:
    """The run's approver: ``--yes`` approves; a terminal is asked; otherwise denied."""

    def __init__(self, transcript: _Transcript, *, yes: bool) -> None:
        self.transcript = transcript
        self.yes = yes

    def __call__(self, call: ToolCall) -> Decision:
        shown = shorten(f"{call.name} {arguments_text(call)}", _ASKED_CHARS, "...")
        if self.yes:
            self.transcript.note(f"approved (--yes): {self.transcript.shorten(shown)}", "yellow")
            return Approve()
        stdin = sys.stdin
        if not _is_terminal(stdin):
            self.transcript.note(
                f"denied {call.name}: it needs approval, and standard input is not a terminal"
                " to ask on (pass --yes to approve such calls)",
                "yellow",
            )
            return Deny()
        self.transcript.end_line()
        err = self.transcript.err
        err.write(self.transcript.style.paint(f"{shown}\nRun this call? [y/N] ", "yellow+bold"))
        err.flush()
        answer = stdin.readline().strip().lower()
        return Approve() if answer in ("y", "yes") else Deny()


def arguments_text(call: ToolCall) -> str:
    """A call's arguments as JSON text (as the model sent them, when it sent text)."""
    arguments: Any = call.arguments
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False, default=str)


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False

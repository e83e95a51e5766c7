"""The ``toolkit`` command: every subcommand, in-process through ``main``, against throwaway
installed packs (``fake_distributions``) and the local fake model server."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from _dists import Distributions
from fakeserver import Call, FakeServer, Reply

from toolkit import FORMATS, Registry
from toolkit.cli import main

ROOT = Path(__file__).parent.parent

# -- packs, as installed distributions ---------------------------------------------------------

WEATHER = '''
from toolkit import tool
from toolkit.packs import EvalCase, Expect, Pack

@tool
def forecast(city: str, days: int = 1) -> str:
    """Get the weather forecast for a city."""
    return f"{days} day(s) of sun in {city}"

@tool(needs_approval=True)
def alert(city: str) -> str:
    """Send a storm alert for a city."""
    return f"alert sent for {city}"

pack = Pack(
    name="weather",
    tools=[forecast, alert],
    description="Weather forecasts and storm alerts.",
    evals=[
        EvalCase("Weather in Paris?", [Expect("forecast", {"city": "Paris"})], name="paris"),
        EvalCase(
            "Three days in Oslo?",
            [Expect("forecast", {"city": "Oslo", "days": 3})],
            name="oslo",
        ),
    ],
)
'''

BROKEN = """
import not_a_module_anywhere
pack = []
"""

STOCKS = '''
from toolkit import tool

@tool(secrets=["STOCKS_API_KEY"])
def quote(symbol: str) -> str:
    """The last price of a stock."""
    return f"{symbol}: 42.0"

tools = [quote]
'''

NOTES = '''
from pydantic import BaseModel

class Settings(BaseModel):
    root: str

class Notes:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.root

    def read(self, path: str) -> str:
        """Read a note."""
        return f"{self.root}/{path}: hello"
'''

NOISY = '''
print("hello from an import")
from toolkit import tool

@tool
def ping() -> str:
    """Answer pong."""
    return "pong"

tools = [ping]
'''

LOCAL_TOOLS = '''
from typing import Annotated

from pydantic import BaseModel, Field

from toolkit import tool


def get_time(city: str) -> str:
    """The local time in a city."""
    return f"noon in {city}"


@tool
def book(nights: Annotated[int, Field(ge=1, le=14)], guests: int = 1) -> str:
    """Book a room."""
    return f"{nights} nights for {guests}"


def lines() -> str:
    """Two lines of text."""
    return "one\\ntwo\\n"


def interrupt() -> str:
    """Stands for a person pressing Ctrl-C while a tool runs."""
    raise KeyboardInterrupt


TOOLS = [get_time, book]


class Settings(BaseModel):
    greeting: str


class Greeter:
    def __init__(self, settings: Settings) -> None:
        self.greeting = settings.greeting

    def greet(self, name: str) -> str:
        """Greet someone."""
        return f"{self.greeting}, {name}"


NOT_A_TOOL = 42
'''


@pytest.fixture
def packs(fake_distributions: Distributions) -> Distributions:
    """Installed: a good pack, a broken one, one needing a secret, one needing a
    configuration."""
    fake_distributions.add(
        "weather-pack",
        {"weather": "cli_weather:pack"},
        {"cli_weather": WEATHER},
        version="1.2",
        summary="Weather for everyone.",
    )
    fake_distributions.add(
        "broken-pack", {"broken": "cli_broken:pack"}, {"cli_broken": BROKEN}, version="0.1"
    )
    fake_distributions.add("stocks-pack", {"stocks": "cli_stocks:tools"}, {"cli_stocks": STOCKS})
    fake_distributions.add("notes-pack", {"notes": "cli_notes:Notes"}, {"cli_notes": NOTES})
    return fake_distributions


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint, colour setting, secret or strictness leaks in from the shell."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "TOOLKIT_MODEL",
        "TOOLKIT_PROVIDER",
        "TOOLKIT_BASE_URL",
        "TOOLKIT_API_KEY",
        "TOOLKIT_PACKS_STRICT",
        "NO_COLOR",
        "FORCE_COLOR",
        "STOCKS_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``toolkit ARGV`` in this process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _installed(message: str) -> set[str]:
    """The pack names an error message lists as installed (other packs may be installed
    where the tests run)."""
    found = re.search(r"\(installed(?: packs)?: ([^)]*)\)", message)
    assert found is not None, message
    return set(found.group(1).split(", "))


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# -- the entry points --------------------------------------------------------------------------


def test_python_m_toolkit_prints_the_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: toolkit ")
    for command in ("packs", "schema", "call", "run", "eval", "new"):
        assert re.search(rf"^    {command} ", done.stdout, re.MULTILINE), command


def test_python_m_toolkit_lists_installed_packs_as_json(packs: Distributions) -> None:
    env = {**os.environ, "PYTHONPATH": str(packs.root)}
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "packs", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    listed = {pack["name"]: pack for pack in json.loads(done.stdout)["packs"]}
    assert listed["weather"]["status"] == "ok"
    assert listed["broken"]["status"] == "error"


def test_a_usage_error_exits_2_with_argparse_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schema", "weather")
    assert code == 2
    assert out == ""
    assert "the following arguments are required: --format" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import toolkit

    assert run(capsys, "--version") == (0, f"toolkit {toolkit.__version__}\n", "")


def test_no_command_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("usage: toolkit ")


# -- toolkit packs -----------------------------------------------------------------------------


def test_packs_lists_every_pack_and_a_broken_one_with_its_cause(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "packs")
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["weather"][:5] == ["weather", "ok", "1.2", "weather-pack", "2"]
    assert rows["broken"][:3] == ["broken", "error", "0.1"]
    assert rows["stocks"][1:3] == ["needs", "secrets"]
    assert rows["notes"][1:3] == ["needs", "config"]
    assert "weather_alert" in rows
    assert "needs approval" in " ".join(rows["weather_alert"])
    assert "secrets: STOCKS_API_KEY" in " ".join(rows["stocks_quote"])
    problems = out.split("Problems:")[1]
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in problems
    assert "set STOCKS_API_KEY in the environment" in problems
    assert "its configuration needs root" in problems


def test_packs_json_gives_each_pack_its_status_tools_and_problem(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "packs", "--json")
    assert code == 0
    listed = {pack["name"]: pack for pack in json.loads(out)["packs"]}
    weather = listed["weather"]
    assert weather["distribution"] == "weather-pack"
    assert weather["version"] == "1.2"
    assert weather["summary"] == "Weather forecasts and storm alerts."
    assert weather["evals"] == 2
    assert [t["name"] for t in weather["tools"]] == ["weather_forecast", "weather_alert"]
    assert [t["needs_approval"] for t in weather["tools"]] == [False, True]
    assert listed["broken"]["status"] == "error"
    assert "not_a_module_anywhere" in listed["broken"]["problem"]
    assert listed["broken"]["tools"] == []
    assert listed["stocks"]["status"] == "needs secrets"
    assert listed["stocks"]["missing_secrets"] == ["STOCKS_API_KEY"]
    assert listed["notes"]["status"] == "needs config"
    assert listed["notes"]["required_config"] == ["root"]


def test_packs_with_the_secret_set_is_ok(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKS_API_KEY", "sk-1")
    code, out, _ = run(capsys, "packs", "--json")
    assert code == 0
    stocks = next(p for p in json.loads(out)["packs"] if p["name"] == "stocks")
    assert stocks["status"] == "ok"
    assert stocks["problem"] is None


def test_packs_strict_fails_on_a_broken_pack_but_lists_the_others(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLKIT_PACKS_STRICT", "1")
    code, out, err = run(capsys, "packs")
    assert code == 1
    assert "weather_forecast" in out
    assert "1 pack(s) failed to load (broken) and TOOLKIT_PACKS_STRICT is set" in err


def test_what_a_pack_prints_while_imported_stays_out_of_the_json(
    fake_distributions: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_distributions.add("noisy-pack", {"noisy": "cli_noisy:tools"}, {"cli_noisy": NOISY})
    code, out, err = run(capsys, "packs", "--json")
    assert code == 0
    assert any(p["name"] == "noisy" for p in json.loads(out)["packs"])
    assert "hello from an import" in err


def test_packs_says_how_to_start_when_none_is_installed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.cli import _packs

    monkeypatch.setattr(_packs, "installed_packs", list)
    code, out, _ = run(capsys, "packs")
    assert code == 0
    assert out.startswith("No tool packs are installed.")
    assert "toolkit new NAME" in out


# -- toolkit schema ----------------------------------------------------------------------------


@pytest.mark.parametrize("format", FORMATS)
def test_schema_of_a_pack_in_every_format(
    packs: Distributions, capsys: pytest.CaptureFixture[str], format: str
) -> None:
    expected = Registry()
    expected.add_pack("weather")
    code, out, _ = run(capsys, "schema", "weather", "--format", format, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["target"] == "pack 'weather'"
    assert shown["format"] == format
    assert [t["name"] for t in shown["tools"]] == ["weather_forecast", "weather_alert"]
    assert [t["definition"] for t in shown["tools"]] == expected.definitions(cast("Any", format))


def test_schema_prints_the_definitions_on_stdout_and_the_changes_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "local_tools.py").write_text(LOCAL_TOOLS)
    target = f"{tmp_path / 'local_tools.py'}:book"
    code, out, err = run(capsys, "schema", target, "--format", "anthropic", "--strict")
    assert code == 0
    definitions = json.loads(out)
    assert [d["name"] for d in definitions] == ["book"]
    assert definitions[0]["strict"] is True
    assert "Changes made for the anthropic format" in err
    assert "$.properties.nights: 'minimum' is not supported by Anthropic strict tool use" in err
    assert "(lossy)" in err

    code, out, err = run(capsys, "schema", target, "--format", "anthropic", "--strict", "--json")
    changes = json.loads(out)["tools"][0]["changes"]
    assert {"path": "$.properties.nights", "lossy": True}.items() <= changes[0].items()
    assert err == ""

    code, out, err = run(capsys, "schema", target, "--format", "anthropic")
    assert code == 0
    assert "strict" not in json.loads(out)[0]
    assert err == "The anthropic format says everything the tools' schemas say.\n"


def test_schema_of_a_namespaced_tool_of_a_pack(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "schema", "weather_forecast", "--format", "openai")
    assert code == 0
    [definition] = json.loads(out)
    assert definition["function"]["name"] == "weather_forecast"
    assert definition["function"]["description"] == "Get the weather forecast for a city."


def test_schema_of_a_module_function_found_in_the_current_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cli_cwd_tools.py").write_text(LOCAL_TOOLS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "cli_cwd_tools", raising=False)
    code, out, err = run(capsys, "schema", "cli_cwd_tools:get_time", "--format", "mcp")
    assert code == 0, err
    [definition] = json.loads(out)
    assert definition["name"] == "get_time"
    assert definition["inputSchema"]["required"] == ["city"]
    assert str(tmp_path) not in sys.path  # searched while importing only
    monkeypatch.delitem(sys.modules, "cli_cwd_tools")


def test_schema_of_a_list_and_of_a_toolbox_class_with_its_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    code, out, _ = run(capsys, "schema", f"{path}:TOOLS", "--format", "gemini")
    assert code == 0
    assert [d["name"] for d in json.loads(out)] == ["get_time", "book"]

    code, _, err = run(capsys, "schema", f"{path}:Greeter", "--format", "openai")
    assert code == 2
    assert "needs a configuration: pass --config '{...}' with greeting" in err

    config = '{"greeting": "Hello"}'
    code, out, _ = run(
        capsys, "schema", f"{path}:Greeter", "--format", "openai", "--config", config
    )
    assert code == 0
    assert [d["function"]["name"] for d in json.loads(out)] == ["greet"]


def test_schema_of_an_unknown_target_lists_what_exists(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "schema", "nowhere", "--format", "openai")
    assert code == 2
    assert out == ""
    assert err.startswith("toolkit schema: error: no installed pack, nor tool of one, is named")
    assert _installed(err) >= {"broken", "notes", "stocks", "weather"}

    code, _, err = run(capsys, "schema", "weather_tomorrow", "--format", "openai")
    assert code == 2
    assert "pack 'weather' has no tool named 'weather_tomorrow'" in err
    assert "its tools: weather_forecast, weather_alert" in err


def test_schema_of_a_missing_module_file_or_attribute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "schema", "cli_no_such_module:f", "--format", "openai")
    assert code == 2
    assert "no module named 'cli_no_such_module'" in err

    code, _, err = run(capsys, "schema", f"{tmp_path}/absent.py:f", "--format", "openai")
    assert code == 2
    assert "absent.py" in err
    assert "no file" in err

    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    code, _, err = run(capsys, "schema", f"{path}:nope", "--format", "openai")
    assert code == 2
    defined = "get_time, book, lines, interrupt, TOOLS, Settings, Greeter"
    assert f"has no attribute 'nope'; it defines: {defined}" in err

    code, _, err = run(capsys, "schema", f"{path}:NOT_A_TOOL", "--format", "openai")
    assert code == 2
    assert "is a int; expected a function, a Tool, a Pack" in err

    code, _, err = run(capsys, "schema", str(path), "--format", "openai")
    assert code == 2
    assert "is a file: name the object in it too" in err


def test_schema_of_a_pack_that_fails_exits_1_with_the_cause(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "schema", "broken", "--format", "openai")
    assert code == 1
    assert out == ""
    assert "failed to import" in err
    assert "not_a_module_anywhere" in err


def test_schema_of_a_pack_missing_a_secret_warns_once_readably(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "schema", "stocks", "--format", "openai")
    assert code == 0
    assert json.loads(out)[0]["function"]["name"] == "stocks_quote"
    warning = "warning: pack 'stocks' needs the secret STOCKS_API_KEY: set the environment"
    assert err.count(warning) == 1
    assert "PackWarning" not in err
    assert ".py:" not in err


def test_config_must_be_a_json_object(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "schema", "notes", "--format", "openai", "--config", "[1]")
    assert code == 2
    assert "--config must be a JSON object" in err
    code, _, err = run(capsys, "schema", "notes", "--format", "openai", "--config", "{root")
    assert code == 2
    assert "--config is not valid JSON" in err


# -- toolkit call ------------------------------------------------------------------------------


def test_call_prints_the_result(packs: Distributions, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "call", "weather_forecast", '{"city": "Paris", "days": 2}')
    assert (code, out, err) == (0, "2 day(s) of sun in Paris\n", "")


def test_call_with_invalid_arguments_prints_what_the_model_would_read(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = '{"days": "many"}'
    registry = Registry()
    registry.add_pack("weather")
    from toolkit import ToolCall

    [expected] = registry.execute([ToolCall(id="x", name="weather_forecast", arguments=arguments)])
    code, out, err = run(capsys, "call", "weather_forecast", arguments)
    assert code == 1
    assert out == ""
    assert err == f"weather_forecast: error result (invalid_arguments):\n{expected.content}\n"
    assert "city" in err
    assert "days" in err


def test_call_with_a_missing_secret_fails_naming_it(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "call", "stocks_quote", '{"symbol": "ACME"}', "--json")
    assert code == 1
    result = json.loads(out)
    assert result["is_error"] is True
    assert result["error_kind"] == "missing_secret"
    assert "STOCKS_API_KEY" in result["content"]
    assert err == ""  # the tool's own missing secret is its result, not a warning

    monkeypatch.setenv("STOCKS_API_KEY", "sk-1")
    code, out, _ = run(capsys, "call", "stocks_quote", '{"symbol": "ACME"}', "--json")
    assert code == 0
    assert json.loads(out) == {
        "name": "stocks_quote",
        "is_error": False,
        "error_kind": None,
        "content": "ACME: 42.0",
    }


def test_call_of_a_file_function_and_of_a_configured_toolbox(
    tmp_path: Path, packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    code, out, _ = run(capsys, "call", f"{path}:get_time", '{"city": "Lima"}')
    assert (code, out) == (0, "noon in Lima\n")
    config = '{"root": "/srv"}'
    code, out, _ = run(capsys, "call", "notes_read", '{"path": "a.txt"}', "--config", config)
    assert (code, out) == (0, "/srv/a.txt: hello\n")


def test_call_prints_a_content_ending_in_a_newline_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    assert run(capsys, "call", f"{path}:lines") == (0, "one\ntwo\n", "")


def test_an_interrupted_command_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    assert run(capsys, "call", f"{path}:interrupt") == (130, "", "\ninterrupted\n")


def test_call_needs_exactly_one_tool(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "call", "weather", "{}")
    assert code == 2
    assert "pack 'weather' has 2 tools; name one of them: weather_forecast, weather_alert" in err


def test_call_of_a_function_takes_no_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    code, _, err = run(capsys, "call", f"{path}:get_time", "{}", "--config", "{}")
    assert code == 2
    assert "is one tool: it takes no --config" in err


# -- toolkit run and toolkit eval, against the fake server -------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def endpoint(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """The fake server as the OpenAI endpoint (through the SDK's variables), its records
    reset; after the test, its script used up and nothing failed."""
    server.requests.clear()
    server.failures.clear()
    server.script([])
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    yield server
    assert server.failures == []
    assert server.pending_replies == 0, "the test did not use its whole script"


_DENIED = "The user denied this call."


def _tool_messages(server: FakeServer) -> list[str]:
    """The tool results the last Chat Completions request sent."""
    messages = server.requests[-1].body["messages"]
    return [m["content"] for m in messages if m["role"] == "tool"]


def test_run_streams_the_call_its_result_and_the_answer(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint.script(
        [
            Reply.calls(Call("weather_forecast", {"city": "Paris"})),
            Reply.text("Sunny in Paris today."),
        ]
    )
    code, out, err = run(
        capsys, "run", "Weather in Paris?", "--pack", "weather", "--model", "fake-model"
    )
    assert code == 0, err
    assert out == "Sunny in Paris today.\n"
    assert err.splitlines() == [
        '→ weather_forecast {"city":"Paris"}',  # as the model sent it
        "← weather_forecast: 1 day(s) of sun in Paris",
    ]
    first = endpoint.requests[0].body
    assert first["model"] == "fake-model"
    assert first["stream"] is True
    assert [t["function"]["name"] for t in first["tools"]] == ["weather_forecast", "weather_alert"]
    assert _tool_messages(endpoint) == ["1 day(s) of sun in Paris"]


def test_run_shows_no_control_character_a_model_sends(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "\x1b[2J\rOK\u202e"
    endpoint.script([Reply.calls(Call("weather_forecast", {"city": hostile})), Reply.text(hostile)])
    code, out, err = run(capsys, "run", "Hi", "--pack", "weather", "--model", "m")
    assert code == 0
    assert out == "\\u001b[2J\\u000dOK\\u202e\n"
    assert "← weather_forecast: 1 day(s) of sun in \\u001b[2J OK\\u202e" in err
    assert "\x1b" not in out + err


def test_run_denies_a_call_needing_approval_when_stdin_is_not_a_terminal(
    packs: Distributions,
    endpoint: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped: never read
    endpoint.script(
        [Reply.calls(Call("weather_alert", {"city": "Paris"})), Reply.text("I could not.")]
    )
    code, out, err = run(capsys, "run", "Alert Paris", "--pack", "weather", "--model", "m")
    assert code == 0
    assert out == "I could not.\n"
    assert "denied weather_alert: it needs approval, and standard input is not a terminal" in err
    assert "← weather_alert failed (vetoed): The user denied this call." in err
    assert _tool_messages(endpoint) == ["The user denied this call."]


_ANSWERS = {"yes": ("y\n", "alert sent for Oslo"), "no": ("n\n", _DENIED), "nothing": ("", _DENIED)}


@pytest.mark.parametrize("answer", _ANSWERS)
def test_run_asks_on_a_terminal(
    packs: Distributions,
    endpoint: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    typed, sent = _ANSWERS[answer]
    monkeypatch.setattr(sys, "stdin", _Terminal(typed))
    endpoint.script([Reply.calls(Call("weather_alert", {"city": "Oslo"})), Reply.text("Done.")])
    code, _, err = run(capsys, "run", "Alert Oslo", "--pack", "weather", "--model", "m")
    assert code == 0
    assert 'weather_alert {"city":"Oslo"}\nRun this call? [y/N] ' in err
    assert _tool_messages(endpoint) == [sent]


def test_run_yes_approves_without_asking(
    tmp_path: Path,
    packs: Distributions,
    endpoint: FakeServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "local_tools.py"
    path.write_text(LOCAL_TOOLS)
    endpoint.script(
        [
            Reply.calls(
                Call("weather_alert", {"city": "Rome"}), Call("get_time", {"city": "Rome"})
            ),
            Reply.text("Alerted."),
        ]
    )
    code, _, err = run(
        capsys,
        "run",
        "Alert Rome",
        "--pack",
        "weather",
        "--tool",
        f"{path}:get_time",
        "--model",
        "m",
        "--yes",
    )
    assert code == 0
    assert 'approved (--yes): weather_alert {"city":"Rome"}' in err
    assert _tool_messages(endpoint) == ["alert sent for Rome", "noon in Rome"]


def test_run_approve_all_asks_for_every_call(
    packs: Distributions,
    endpoint: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    endpoint.script([Reply.calls(Call("weather_forecast", {"city": "Rome"})), Reply.text("?")])
    code, _, err = run(
        capsys, "run", "Rome?", "--pack", "weather", "--model", "m", "--approve", "all"
    )
    assert code == 0
    assert "denied weather_forecast" in err


def test_run_through_anthropic_when_only_its_variables_are_set(
    packs: Distributions,
    server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.requests.clear()
    server.failures.clear()
    server.script(
        [
            Reply.text_and_calls("Let me see.", Call("weather_forecast", {"city": "Nice"})),
            Reply.text("Sunny."),
        ]
    )
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    monkeypatch.setenv("TOOLKIT_MODEL", "claude-fake")
    code, out, err = run(capsys, "run", "Nice?", "--pack", "weather")
    assert code == 0, err
    assert out == "Let me see.\nSunny.\n"
    assert [r.protocol for r in server.requests] == ["anthropic", "anthropic"]
    assert server.requests[0].body["model"] == "claude-fake"
    assert server.failures == []
    assert server.pending_replies == 0


def test_run_reads_the_toolkit_variables_over_the_sdk_s(
    packs: Distributions,
    server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.requests.clear()
    server.failures.clear()
    server.script([Reply.text("Hello.")])
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("TOOLKIT_BASE_URL", server.openai_base_url)
    monkeypatch.setenv("TOOLKIT_API_KEY", "toolkit-key")
    monkeypatch.setenv("TOOLKIT_MODEL", "fake-model")
    code, out, err = run(capsys, "run", "Hi", "--pack", "weather")
    assert code == 0, err
    assert out == "Hello.\n"
    assert server.requests[0].headers["authorization"] == "Bearer toolkit-key"
    assert server.failures == []


def test_run_that_stops_without_an_answer_exits_1(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint.script([Reply.refuse("No.")])
    code, _, err = run(capsys, "run", "Anything", "--pack", "weather", "--model", "m")
    assert code == 1
    assert "toolkit run: error: the run stopped without an answer: the model refused" in err


def test_run_without_an_endpoint_says_which_variables_to_set(
    packs: Distributions, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "run", "Hi", "--pack", "weather")
    assert code == 2
    assert out == ""
    assert err.startswith("toolkit run: error: no model endpoint is configured")
    for variable in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
    ):
        assert variable in err
    assert "no model is named: pass --model NAME or set TOOLKIT_MODEL" in err


def test_run_with_a_chosen_provider_names_its_missing_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-1")  # set, but not the provider asked for
    code, _, err = run(capsys, "run", "Hi", "--provider", "anthropic", "--model", "m")
    assert code == 2
    assert "the anthropic provider needs its key: set ANTHROPIC_API_KEY" in err
    monkeypatch.setenv("TOOLKIT_PROVIDER", "mistral")
    code, _, err = run(capsys, "run", "Hi", "--model", "m")
    assert code == 2
    assert "TOOLKIT_PROVIDER='mistral': use one of openai, anthropic" in err


def test_run_with_an_unknown_pack_lists_the_installed_ones(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "run", "Hi", "--pack", "weather_forecast", "--model", "m")
    assert code == 2
    assert "--pack weather_forecast: no installed pack has that name" in err
    assert _installed(err) >= {"broken", "notes", "stocks", "weather"}


def test_run_passes_each_pack_its_config(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint.script([Reply.calls(Call("notes_read", {"path": "a.txt"})), Reply.text("Hello.")])
    config = 'notes={"root": "/srv"}'
    argv = ["run", "Read a.txt", "--tool", "notes_read", "--config", config, "--model", "m"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert [t["function"]["name"] for t in endpoint.requests[0].body["tools"]] == ["notes_read"]
    assert _tool_messages(endpoint) == ["/srv/a.txt: hello"]

    code, _, err = run(capsys, *argv[:-2], "--config", "weather={}", "--model", "m")
    assert code == 2
    assert "--config weather=...: no --pack or --tool uses 'weather'" in err
    code, _, err = run(capsys, "run", "Hi", "--pack", "notes", "--config", "notes", "--model", "m")
    assert code == 2
    assert "--config notes: write NAME=JSON" in err


def _script_one_right_one_wrong(server: FakeServer) -> None:
    server.script(
        [
            Reply.calls(Call("weather_forecast", {"city": "Paris"})),
            Reply.calls(Call("weather_forecast", {"city": "Oslo", "days": 1})),
        ]
    )


def test_eval_marks_each_case_and_totals(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _script_one_right_one_wrong(endpoint)
    code, out, err = run(capsys, "eval", "weather", "--model", "m")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "pack 'weather', model 'm' (openai): 2 cases"
    assert lines[2].split() == ["CASE", "TOOL", "ARGUMENTS", "PROBLEMS"]
    assert lines[3].split() == ["paris", "✓", "✓"]
    assert lines[4].split()[:3] == ["oslo", "✓", "✗"]
    assert "forecast: arguments" in lines[4]
    assert "do not match" in lines[4]
    assert lines[-2:] == [
        "tool accuracy:     100% (2 of 2 cases)",
        "argument accuracy:  50% (1 of 2 cases)",
    ]
    assert "1 of 2 cases passed: an argument accuracy of 50%, below --min-accuracy 1" in err


def test_eval_json_and_a_lower_minimum(
    packs: Distributions, endpoint: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _script_one_right_one_wrong(endpoint)
    code, out, _ = run(capsys, "eval", "weather", "--model", "m", "--json", "--min-accuracy", "0.5")
    assert code == 0
    report = json.loads(out)
    assert report["tool_accuracy"] == 1.0
    assert report["argument_accuracy"] == 0.5
    assert [c["name"] for c in report["cases"]] == ["paris", "oslo"]
    assert [c["passed"] for c in report["cases"]] == [True, False]
    assert report["cases"][1]["calls"][0]["name"] == "weather_forecast"
    assert report["cases"][1]["problems"][0].startswith("forecast: arguments")


def test_eval_needs_a_known_pack_and_an_endpoint(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "eval", "weather", "--model", "m")
    assert code == 2
    assert "no model endpoint is configured" in err
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    code, _, err = run(capsys, "eval", "nope", "--model", "m")
    assert code == 2
    assert "no installed pack is named 'nope'" in err
    assert _installed(err) >= {"broken", "notes", "stocks", "weather"}
    code, _, err = run(capsys, "eval", "weather", "--model", "m", "--min-accuracy", "2")
    assert code == 2
    assert "'2' is not a number from 0 to 1" in err


# -- toolkit new -------------------------------------------------------------------------------


def test_new_creates_the_pack_and_prints_the_next_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Path]] = []

    def scaffold(name: str, parent: Path) -> Path:
        calls.append((name, parent))
        if name == "bad name":
            raise ValueError("'bad name' is not a usable name")
        created = parent / name
        created.mkdir()
        return created

    fake = types.ModuleType("toolkit.cli._scaffold")
    fake.scaffold = scaffold  # pyright: ignore[reportAttributeAccessIssue]
    monkeypatch.setitem(sys.modules, "toolkit.cli._scaffold", fake)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "new", "weather")
    assert code == 0
    assert calls == [("weather", Path("."))]
    assert out.startswith("Created weather\n")
    assert "  cd weather\n  python -m pip install -e ." in out
    assert "python -m pytest" in out

    code, out, err = run(capsys, "new", "bad name", "--directory", str(tmp_path))
    assert code == 2
    assert err == "toolkit new: error: 'bad name' is not a usable name\n"


def test_new_with_the_real_scaffold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("toolkit.cli._scaffold")
    code, out, err = run(capsys, "new", "weather-tools", "--directory", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "weather-tools").is_dir()
    assert "pip install -e ." in out
    code, _, err = run(capsys, "new", "weather-tools", "--directory", str(tmp_path))
    assert code == 2  # the directory exists


# -- colour ------------------------------------------------------------------------------------


def test_no_colour_when_piped(packs: Distributions, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "packs")
    assert "\x1b[" not in out


def test_colour_forced_or_on_a_terminal_unless_no_color(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(capsys, "packs")
    assert "\x1b[1mweather\x1b[0m" in out
    assert "\x1b[32mok\x1b[0m" in out
    monkeypatch.delenv("FORCE_COLOR")

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    main(["packs"])
    assert "\x1b[31merror\x1b[0m" in terminal.getvalue()

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    main(["packs"])
    assert "\x1b[" not in terminal.getvalue()
    assert "weather" in terminal.getvalue()


def test_columns_stay_aligned_with_colour(
    packs: Distributions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, plain, _ = run(capsys, "packs")
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = run(capsys, "packs")
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


# -- the documentation -------------------------------------------------------------------------

_HELP_BLOCK = re.compile(r"```text\n\$ (toolkit[^\n]*--help)\n(.*?)```", re.DOTALL)


def test_docs_show_every_help_text_as_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    blocks = _HELP_BLOCK.findall((ROOT / "docs" / "cli.md").read_text())
    shown = [command for command, _ in blocks]
    assert shown == [
        "toolkit --help",
        *(
            f"toolkit {name} --help"
            for name in ("packs", "schema", "call", "run", "eval", "mcp", "new")
        ),
    ]
    for command, text in blocks:
        code, out, _ = run(capsys, *shlex.split(command)[1:])
        assert code == 0
        assert text == out, f"docs/cli.md is out of date for `{command}`"

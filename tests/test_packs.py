"""Tool packs: discovery without imports, the four forms of a pack, failures that stay
contained, namespaces, filters that survive composition, conflicts, secrets and the approval
policy the hints allow."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from _dists import Distributions
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from toolkit import (
    Approve,
    Context,
    Registry,
    Runner,
    Secrets,
    ToolAnnotations,
    ToolCall,
    ToolDefinitionError,
    ToolError,
    tool,
)
from toolkit.packs import (
    EvalCase,
    Expect,
    Pack,
    PackError,
    PackWarning,
    anything,
    approx,
    installed_packs,
    load_pack,
    matches,
    one_of,
    run_evals,
)
from toolkit.schema import namespace_problem, namespaced
from toolkit.testing import FunctionModel, ScriptedModel, call

UNITS = """
from pydantic import BaseModel
from toolkit import tool, ToolAnnotations


class Settings(BaseModel):
    digits: int = 2


class Units:
    '''Unit conversion.'''

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def km_to_miles(self, km: float) -> float:
        '''Convert kilometres to miles.'''
        return round(km / 1.609344, self.settings.digits)

    @tool(tags=["write"], annotations=ToolAnnotations(destructive=True))
    def forget(self) -> str:
        '''Forget everything.'''
        return "forgotten"
"""


def _one(registry: Registry, tool_name: str, /, **arguments: Any) -> Any:
    return registry.execute([ToolCall(id="c1", name=tool_name, arguments=arguments)])[0]


# -- discovery --------------------------------------------------------------------------------


def test_discovery_reads_metadata_and_imports_nothing(fake_distributions: Distributions) -> None:
    fake_distributions.add(
        "toolkit-units",
        {"units": "units_pack:Units"},
        {"units_pack": UNITS + "\nraise RuntimeError('imported!')\n"},
        version="2.3",
        summary="Convert units.",
    )
    [info] = [p for p in installed_packs() if p.name == "units"]
    assert (info.distribution, info.version, info.summary) == (
        "toolkit-units",
        "2.3",
        "Convert units.",
    )
    assert info.value == "units_pack:Units"
    assert info.problem is None
    assert not fake_distributions.imported("units_pack")


def test_fifty_packs_are_listed_without_imports(fake_distributions: Distributions) -> None:
    for index in range(50):
        fake_distributions.add(
            f"pack-{index}", {f"pack{index}": f"mod{index}:TOOLS"}, {f"mod{index}": "1/0\n"}
        )
    found = [p for p in installed_packs() if p.name.startswith("pack")]
    assert len(found) == 50  # (how fast: tests/bench/bench_packs.py measures it)
    assert not any(fake_distributions.imported(f"mod{i}") for i in range(50))


def test_illegal_and_duplicated_names_are_listed_with_their_problem(
    fake_distributions: Distributions,
) -> None:
    fake_distributions.add("dist-a", {"same": "a_mod:TOOLS", "bad.name": "a_mod:TOOLS"})
    fake_distributions.add("dist-b", {"same": "b_mod:TOOLS", "x__y": "b_mod:TOOLS"})
    listed = {(p.name, p.distribution): p.problem for p in installed_packs()}
    assert "dist-b" in str(listed[("same", "dist-a")])
    assert "dist-a" in str(listed[("same", "dist-b")])
    assert "not a usable namespace" in str(listed[("bad.name", "dist-a")])
    assert "not a usable namespace" in str(listed[("x__y", "dist-b")])
    with pytest.raises(PackError, match=r"'same' \(dist-[ab] 1.0\).*also declared by dist-[ab]"):
        load_pack("same")


# -- the four forms ---------------------------------------------------------------------------


def test_a_toolbox_class_takes_its_validated_configuration(
    fake_distributions: Distributions,
) -> None:
    fake_distributions.add("toolkit-units", {"units": "units_pack:Units"}, {"units_pack": UNITS})
    registry = Registry()
    added = registry.add_pack("units", config={"digits": 1})
    assert [t.name for t in added] == ["units_km_to_miles", "units_forget"]
    assert _one(registry, "units_km_to_miles", km=10).value == 6.2
    assert registry["units_km_to_miles"].base_name == "km_to_miles"
    assert registry.origin("units_forget") == "units"
    with pytest.raises(PackError, match=r"pack 'units': invalid configuration: digits: Input"):
        Registry().add_pack("units", config={"digits": "many"})


def test_a_pack_object_a_list_and_a_factory(fake_distributions: Distributions) -> None:
    fake_distributions.add(
        "toolkit-forms",
        {"obj": "forms:PACK", "listed": "forms:TOOLS", "made": "forms:make"},
        {
            "forms": """
            from pydantic import BaseModel
            from toolkit import tool
            from toolkit.packs import Pack

            def ping() -> str:
                '''Answer pong.'''
                return "pong"

            class Greeting(BaseModel):
                word: str = "hello"

            TOOLS = [ping]
            PACK = Pack(name="whatever", description="Pings.", tools=[ping], version="9")

            def make(config: Greeting):
                def greet(name: str) -> str:
                    '''Greet.'''
                    return f"{config.word} {name}"
                return [greet]
            """
        },
    )
    registry = Registry()
    registry.add_pack("obj")
    registry.add_pack("listed")
    registry.add_pack("made", config={"word": "hi"})
    assert registry.names == ["obj_ping", "listed_ping", "made_greet"]
    assert _one(registry, "made_greet", name="Ada").value == "hi Ada"
    assert load_pack("obj").name == "obj"  # the entry-point name wins
    assert load_pack("obj").version == "9"
    with pytest.raises(PackError, match=r"pack 'listed' takes no configuration"):
        Registry().add_pack("listed", config={"x": 1})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import not_a_module_anywhere\n", r"failed to import .*ModuleNotFoundError"),
        ("import sys\nsys.exit(3)\n", r"failed to import .*SystemExit: 3"),
        ("THING = 42\n", r"entry point broken:THING is int; expected a Pack"),
        ("def THING():\n    return 'nope'\n", r"its factory returned str, expected a Pack"),
        (
            "def THING():\n    raise ValueError('no config file')\n",
            r"factory raised ValueError: no",
        ),
        ("THING = [1]\n", r"item 0 of its tools is int"),
        (
            "class THING:\n    def __init__(self):\n        raise OSError('disk')\n",
            r"toolbox class raised OSError: disk",
        ),
    ],
)
def test_a_broken_pack_is_named_with_its_distribution_and_cause(
    fake_distributions: Distributions, source: str, expected: str
) -> None:
    fake_distributions.add("toolkit-broken", {"broken": "broken:THING"}, {"broken": source})
    with pytest.raises(PackError, match=r"pack 'broken'") as info:
        Registry().add_pack("broken")
    assert len(str(info.value)) < 1000
    assert re.search(expected, str(info.value))


def test_one_broken_pack_is_reported_once_and_the_others_load(
    fake_distributions: Distributions,
) -> None:
    fake_distributions.add("toolkit-units", {"units": "units_pack:Units"}, {"units_pack": UNITS})
    fake_distributions.add("toolkit-broken", {"broken": "broken_mod:X"}, {"broken_mod": "1/0\n"})
    registry = Registry()
    with pytest.warns(
        PackWarning, match=r"pack 'broken' \(toolkit-broken 1.0\).*ZeroDivisionError"
    ):
        outcome = registry.add_packs(["broken", "units"])
    assert isinstance(outcome["broken"], PackError)
    assert [t.name for t in outcome["units"]] == ["units_km_to_miles", "units_forget"]  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same failure again: no second warning
        Registry().add_packs(["broken"])


def test_strict_mode_raises_instead(
    fake_distributions: Distributions, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distributions.add("toolkit-broken", {"broken": "broken_mod:X"}, {"broken_mod": "1/0\n"})
    monkeypatch.setenv("TOOLKIT_PACKS_STRICT", "1")
    with pytest.raises(PackError, match="ZeroDivisionError"):
        Registry().add_packs(["broken"])


def test_installed_is_not_consent(
    fake_distributions: Distributions, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distributions.add("toolkit-units", {"units": "units_pack:Units"}, {"units_pack": UNITS})
    registry = Registry()
    assert registry.add_packs() == {}
    assert len(registry) == 0
    assert not fake_distributions.imported("units_pack")
    monkeypatch.setenv("TOOLKIT_PACKS", " units , units,")
    assert list(registry.add_packs()) == ["units"]
    assert registry.names == ["units_km_to_miles", "units_forget"]


# -- names ------------------------------------------------------------------------------------


def test_namespacing_never_doubles_the_separator_and_keeps_the_name() -> None:
    @tool(name="_hidden")
    def hidden() -> None:
        """Hidden."""

    moved = hidden.with_options(namespace="files")
    assert (moved.name, moved.base_name, moved.namespace) == ("files_hidden", "_hidden", "files")
    assert moved.definition("openai")["function"]["name"] == "files_hidden"
    back = moved.with_options(namespace=None)
    assert back.name == "_hidden"
    renamed = moved.with_options(name="shown")
    assert renamed.name == "files_shown"
    for bad in ("files_", "_files", "a__b", "has space", "dot.ted", "x" * 33, ""):
        with pytest.raises(ToolDefinitionError, match="not a usable namespace"):
            hidden.with_options(namespace=bad)
    with pytest.raises(ToolDefinitionError, match="at most 64"):
        hidden.with_options(name="n" * 60, namespace="files")
    with pytest.raises(ToolDefinitionError, match="only underscores"):
        hidden.with_options(name="__", namespace="files")


@given(
    namespace=st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,40}", fullmatch=True),
    name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,70}", fullmatch=True),
)
def test_a_namespaced_name_is_portable_or_refused(namespace: str, name: str) -> None:
    problem = namespace_problem(namespace, name)
    if problem is None:
        joined = namespaced(namespace, name)
        assert len(joined) <= 64
        assert "__" not in joined[: len(namespace) + 2]
        assert not joined.endswith("_") or name.endswith("_")
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", joined)
    elif name.strip("_") and namespace_problem(namespace) is None:
        assert "64" in problem  # a usable namespace and name: refused only for the length


def test_a_conflict_names_both_packs_and_the_fix(fake_distributions: Distributions) -> None:
    fake_distributions.add(
        "toolkit-two",
        {"a": "two:A", "a_b": "two:AB"},
        {
            "two": """
            def b_c() -> None:
                '''One.'''

            def c() -> None:
                '''Two.'''

            A = [b_c]
            AB = [c]
            """
        },
    )
    registry = Registry()
    registry.add_pack("a")
    with pytest.raises(
        PackError, match=r"pack 'a_b': its tool 'a_b_c' .* from pack 'a'.*namespace="
    ):
        registry.add_pack("a_b")
    assert registry.names == ["a_b_c"]  # nothing half-done
    registry.add_pack("a_b", namespace="other")
    assert registry.names == ["a_b_c", "other_c"]


def test_a_pack_may_skip_its_namespace() -> None:
    def ping() -> str:
        """Pong."""
        return "pong"

    registry = Registry()
    registry.add_pack(Pack(name="net", tools=[ping]), namespace=False)
    assert registry.names == ["ping"]
    assert registry.origin("ping") == "net"


# -- filters and composition ---------------------------------------------------------------


def _tools() -> list[Any]:
    @tool(tags=["read"])
    def look() -> str:
        """Look."""
        return "seen"

    @tool(tags=["write"], annotations=ToolAnnotations(destructive=True))
    def erase() -> str:
        """Erase."""
        return "erased"

    @tool(tags=["read", "slow"])
    def scan() -> str:
        """Scan."""
        return "scanned"

    return [look, erase, scan]


def test_filters_by_name_and_tag() -> None:
    pack = Pack(name="disk", tools=_tools())
    registry = Registry()
    registry.add_pack(pack, include_tags=["read"], exclude=["disk_scan"])
    assert registry.names == ["disk_look"]
    registry = Registry()
    registry.add_pack(pack, exclude_tags={"write"}, include=["look", "erase", "scan"])
    assert registry.names == ["disk_look", "disk_scan"]
    with pytest.raises(PackError, match=r"include names no tool of the pack: \['raed'\]"):
        Registry().add_pack(pack, include=["raed"])


def test_filters_hold_after_composition() -> None:
    inner = Pack(name="disk", tools=_tools()).select(exclude_tags=["write"])

    def status() -> str:
        """Status."""
        return "ok"

    outer = Pack(name="ops", tools=[inner, status])
    registry = Registry()
    registry.add_pack(outer)
    assert registry.names == ["ops_disk_look", "ops_disk_scan", "ops_status"]
    assert registry["ops_disk_look"].base_name == "look"
    narrower = Registry()
    narrower.add_pack(outer.select(exclude_tags=["slow"]), include_tags=["read"])
    assert narrower.names == ["ops_disk_look"]
    with pytest.raises(PackError, match="two tools are named 'status'"):
        Pack(name="dup", tools=[status, tool(status)]).build()


# -- secrets --------------------------------------------------------------------------------


def _secret_pack() -> Pack:
    @tool(secrets=["WEATHER_KEY"])
    def forecast(ctx: Context, city: str) -> str:
        """Forecast."""
        return f"sunny in {city} (asked with {ctx.secrets['WEATHER_KEY']})"

    @tool
    def leak(ctx: Context) -> str:
        """A tool that did not declare the secret."""
        return str(dict(ctx.secrets))

    @tool(secrets=["WEATHER_KEY"])
    def fail(ctx: Context) -> str:
        """Fails, quoting the secret."""
        raise ToolError(f"denied for key {ctx.secrets['WEATHER_KEY']}")

    @tool(secrets=["WEATHER_KEY"])
    def crash(ctx: Context) -> str:
        """Crashes, quoting the secret."""
        raise RuntimeError(f"bad key {ctx.secrets['WEATHER_KEY']!r}")

    return Pack(name="weather", tools=[forecast, leak, fail, crash])


def test_a_missing_secret_is_reported_at_load_and_answered_at_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEATHER_KEY", raising=False)
    registry = Registry()
    with pytest.warns(PackWarning, match=r"pack 'weather' needs the secret WEATHER_KEY: set"):
        registry.add_pack(_secret_pack())
    result = _one(registry, "weather_forecast", city="Oslo")
    assert result.error is not None
    assert result.error.kind == "missing_secret"
    assert "WEATHER_KEY" in result.content
    assert _one(registry, "weather_leak").content == "{}"


def test_secrets_reach_only_their_tools_and_never_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "wk-9f3c1e77"
    monkeypatch.setenv("WEATHER_KEY", key)
    registry = Registry(redact_errors=False)  # the secret scrubbing does not depend on it
    registry.add_pack(_secret_pack())
    results = registry.execute(
        [
            ToolCall(id=str(i), name=f"weather_{name}", arguments=args)
            for i, (name, args) in enumerate(
                [("forecast", {"city": "Oslo"}), ("leak", {}), ("fail", {}), ("crash", {})]
            )
        ]
    )
    assert results[0].content == "sunny in Oslo (asked with [secret])"
    assert results[0].value.endswith(key + ")")  # the application still sees the value
    assert results[1].content == "{}"
    for result in results[2:]:
        assert result.error is not None
        assert key not in result.content
        assert key not in result.error.message
        assert "[secret]" in result.content
    for definition in registry.definitions("openai") + registry.definitions("mcp"):
        assert "WEATHER_KEY" not in str(definition)


def test_secrets_come_from_the_registry_mapping_when_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEATHER_KEY", "from-the-environment")
    registry = Registry(secrets={"WEATHER_KEY": "from-the-mapping"})
    registry.add_pack(_secret_pack())
    assert _one(registry, "weather_forecast", city="Rome").value.endswith("from-the-mapping)")
    empty = Registry(secrets={"WEATHER_KEY": ""})
    with pytest.warns(PackWarning):
        empty.add_pack(_secret_pack())
    assert _one(empty, "weather_forecast", city="Rome").error.kind == "missing_secret"


def test_secrets_never_show_in_a_repr() -> None:
    secrets = Secrets({"API_KEY": "s3cr3t-value"})
    shown = repr(Context(deps=None, secrets=secrets))
    assert "s3cr3t" not in shown
    assert "API_KEY=***" in repr(secrets)
    with pytest.raises(KeyError, match=r"declare it on the tool, @tool\(secrets=\['OTHER'\]\)"):
        secrets["OTHER"]


def test_pack_secrets_apply_to_every_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_URL", "postgres://x")

    def count() -> int:
        """Count rows."""
        return 3

    registry = Registry()
    registry.add_pack(Pack(name="db", tools=[count], secrets=["DB_URL"]))
    assert registry["db_count"].secrets == ("DB_URL",)
    monkeypatch.delenv("DB_URL")
    assert _one(registry, "db_count").error.kind == "missing_secret"


def test_tags_and_secrets_are_checked() -> None:
    def f() -> None:
        """F."""

    with pytest.raises(TypeError, match="tags must be a list of strings, not one string"):
        tool(f, tags="read")
    with pytest.raises(TypeError, match="each secret must be a non-empty string"):
        tool(f, secrets=[""])
    assert tool(f, tags=["a", "a"]).tags == frozenset({"a"})


# -- the approval policy from the hints -------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "paused"),
    [("marked", []), ("destructive", ["disk_erase"]), ("all", ["disk_look", "disk_erase"])],
)
def test_the_approval_policy(policy: Any, paused: list[str]) -> None:
    registry = Registry()
    registry.add_pack(Pack(name="disk", tools=_tools()))
    model = ScriptedModel([[call("disk_look"), call("disk_erase")], "done"])
    result = Runner(model, tools=registry, approval=policy).run("clean up")
    if not paused:
        assert result.text == "done"
        return
    assert result.pending is not None
    assert [c.name for c in result.pending.calls] == paused
    approved = Runner(model, tools=registry, approval=policy, approve=lambda c: Approve())
    assert approved.run("again").stop_reason is not None
    with pytest.raises(ValueError, match="approval must be"):
        Runner(model, tools=registry, approval="some")  # type: ignore[arg-type]


# -- evaluation cases -------------------------------------------------------------------------


def test_matchers() -> None:
    assert approx(1.0).accepts(1.0000000001)
    assert not approx(1.0).accepts(True)
    assert matches(r"mi(les)?").accepts("Miles")
    assert not matches(r"mi").accepts("miles")
    assert one_of("km", approx(3)).accepts(3.0)
    assert anything().accepts(None)
    assert repr(one_of("a", approx(2))) == "one_of('a', approx(2))"


def test_run_evals_scores_the_first_reply() -> None:
    @tool
    def convert(value: float, unit: str) -> float:
        """Convert."""
        return value

    @tool(annotations=ToolAnnotations(destructive=True))
    def erase() -> str:
        """Erase."""
        raise AssertionError("evaluations never run tools")

    cases = [
        EvalCase("3 km in miles?", [Expect("convert", {"value": 3, "unit": matches("mi.*")})]),
        EvalCase("5 km in feet?", [Expect("convert", {"value": 5, "unit": "ft"})], name="feet"),
        EvalCase("Erase it", [Expect("erase")]),
        EvalCase("Hello!", []),
    ]

    def answer(request: Any) -> Any:
        text = str(request.messages)
        if "3 km" in text:
            return call("units_convert", value=3.0, unit="miles")
        if "5 km" in text:
            return call("units_convert", value=5, unit="metres")
        if "Erase" in text:
            return call("units_convert", value=1, unit="x")
        return "Hi!"

    pack = Pack(name="units", tools=[convert, erase], evals=cases)
    report = run_evals(pack, FunctionModel(answer))
    marks = [(o.case.title, o.tool_chosen, o.arguments_matched) for o in report.outcomes]
    assert marks == [
        ("3 km in miles?", True, True),
        ("feet", True, False),
        ("Erase it", False, False),
        ("Hello!", True, True),
    ]
    assert report.tool_accuracy == 0.75
    assert report.argument_accuracy == 0.5
    assert "unit" in report.outcomes[1].problems[0]
    assert "erase not called (called: units_convert)" in report.outcomes[2].problems[0]
    with pytest.raises(PackError, match="has no evaluation cases"):
        run_evals(Pack(name="empty", tools=[convert]), FunctionModel(answer))


def test_a_failed_request_is_that_case_s_result() -> None:
    def convert(value: float) -> float:
        """Convert."""
        return value

    def broken(request: Any) -> Any:
        raise ConnectionError("model down")

    pack = Pack(name="units", tools=[convert], evals=[EvalCase("x", [Expect("convert")])])
    [outcome] = run_evals(pack, FunctionModel(broken)).outcomes
    assert not outcome.passed
    assert outcome.error == "ConnectionError: model down"


class Sizes(BaseModel):
    size: int = 1


def test_configuration_models_are_found_on_the_factory_and_class() -> None:
    def factory(settings: Sizes) -> list[Any]:
        def size() -> int:
            """Size."""
            return settings.size

        return [size]

    pack = Pack(name="f", tools=factory)
    assert pack.config_model() is Sizes
    assert [t.function() for t in pack.build({"size": 4})] == [4]


def test_a_name_too_long_once_namespaced_is_the_pack_s_error() -> None:
    @tool(name="t" * 60)
    def long_named() -> None:
        """Long."""

    registry = Registry()
    with pytest.raises(PackError, match=r"pack 'files': .*at most 64 letters"):
        registry.add_pack(Pack(name="files", tools=[long_named]))
    assert len(registry) == 0
    registry.add_pack(Pack(name="files", tools=[long_named]), namespace=False)
    assert registry.names == ["t" * 60]


def test_a_failure_s_cause_is_clipped_and_redacted(fake_distributions: Distributions) -> None:
    fake_distributions.add(
        "toolkit-noisy",
        {"noisy": "noisy:make"},
        {
            "noisy": """
            def make():
                raise RuntimeError("token=abcdef0123456789 " + "x" * 5000)
            """
        },
    )
    with pytest.raises(PackError) as info:
        Registry().add_pack("noisy")
    assert "abcdef0123456789" not in str(info.value)
    assert len(str(info.value)) < 700


def test_a_secret_is_hidden_before_a_long_result_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-straddling-0123456789"
    monkeypatch.setenv("LONG_KEY", key)

    @tool(secrets=["LONG_KEY"])
    def chatty(ctx: Context) -> str:
        """Returns a long text with the key across the cut."""
        return "x" * 90 + ctx.secrets["LONG_KEY"] + "y" * 100

    @tool(secrets=["LONG_KEY"])
    def failing(ctx: Context) -> str:
        """Fails with the key across the cut."""
        raise ToolError("z" * 90 + ctx.secrets["LONG_KEY"])

    registry = Registry([chatty, failing], max_content_chars=100)
    ok, error = registry.execute(
        [
            ToolCall(id="1", name="chatty", arguments={}),
            ToolCall(id="2", name="failing", arguments={}),
        ]
    )
    for result in (ok, error):
        assert key[:10] not in result.content  # not even the part before the cut
    assert ok.content.startswith("x" * 90 + "[secret]")

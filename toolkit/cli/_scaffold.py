"""``toolkit new NAME``: a new pack's distribution, which installs and passes its own test
exactly as written::

    NAME/
        pyproject.toml                  the ``toolkit.packs`` entry point
        README.md                       how to try, use and publish it
        src/toolkit_NAME/__init__.py    the pack: a configuration model, one tool, an eval case
        tests/test_NAME.py              tests of the installed pack

The files are the templates below, filled in with ``string.Template`` (``$name``), whose
placeholders cannot be mistaken for the braces of the Python code they fill.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from string import Template

import toolkit
from toolkit.schema import namespace_problem

__all__ = ["scaffold"]

_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "$distribution"
version = "0.1.0"
description = "The toolkit pack '$name'."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["$toolkit"]

# The pack: the name ("$name") is its namespace (its tools are called ${name}_...),
# the value names the Pack object.
[project.entry-points."toolkit.packs"]
$name = "$package:pack"

[dependency-groups]
test = ["pytest>=8"]

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]

[tool.pytest.ini_options]
addopts = ["--strict-markers", "--strict-config", "-ra"]
testpaths = ["tests"]
filterwarnings = ["error"]
"""

_PACKAGE = '''\
"""The toolkit pack ``$name``.

Installed, it is found through its entry point (pyproject.toml); an application loads it
by name, and its tools are namespaced by it::

    from toolkit import Registry

    registry = Registry()
    registry.add_pack("$name", config={"greeting": "Hi"})  # the tool ${name}_greet
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from toolkit import ToolAnnotations, tool
from toolkit.packs import EvalCase, Expect, Pack


class Config(BaseModel):
    """The pack's configuration: ``config=`` of ``Registry.add_pack``, validated here."""

    greeting: str = Field(default="Hello", max_length=100, description="How to greet.")


class Tools:
    """The pack's tools: each public method is one; the constructor takes the Config."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @tool(tags=["read"], annotations=ToolAnnotations(read_only=True, idempotent=True))
    def greet(self, name: str) -> str:
        """Greet someone by name.

        Args:
            name: Who to greet.
        """
        return f"{self.config.greeting}, {name}!"


pack = Pack(
    name="$name",
    description="Greets people (a new pack: make it yours).",
    tools=Tools,
    evals=[
        # What `toolkit eval $name` asks a model, and the call a good model makes.
        EvalCase("Please say hello to Ada.", expect=[Expect("greet", {"name": "Ada"})]),
    ],
)
'''

_TEST = '''\
"""Tests of the pack as installed (``pip install -e . pytest``, then ``python -m pytest``)."""

from __future__ import annotations

import json

import pytest
from toolkit import Registry, ToolCall
from toolkit.packs import PackError, installed_packs, load_pack


def test_the_pack_is_installed() -> None:
    assert "$name" in {info.name for info in installed_packs()}


def test_greet_through_a_registry() -> None:
    registry = Registry()
    registry.add_pack("$name", config={"greeting": "Hi"})
    call = ToolCall(id="call_1", name="${name}_greet", arguments=json.dumps({"name": "Ada"}))
    [result] = registry.execute([call])
    assert (result.content, result.is_error) == ("Hi, Ada!", False)


def test_a_bad_configuration_is_refused() -> None:
    with pytest.raises(PackError, match="greeting"):
        Registry().add_pack("$name", config={"greeting": 42})


def test_the_evaluation_cases_name_tools_of_the_pack() -> None:
    pack = load_pack("$name")
    names = {tool.base_name for tool in pack.build()}
    for case in pack.evals:
        assert {expected.tool for expected in case.expect} <= names, case.title
'''

_README = """\
# $distribution

The toolkit pack `$name`, made by `toolkit new $name`. Its tools are the public methods of
`Tools` in `src/$package/__init__.py`; its configuration is `Config`.

## Try it

```bash
pip install -e . pytest          # the pack (editable) and pytest
python -m pytest                 # its tests, against the installed pack
toolkit packs                    # lists "$name"
toolkit call ${name}_greet '{"name": "Ada"}'
```

## Use it

Installing a pack offers nothing to any model: an application loads it by name.

```python
from toolkit import Registry

registry = Registry()
registry.add_pack("$name", config={"greeting": "Hi"})  # the tool ${name}_greet
```

## Publish it

```bash
python -m build                  # or: uv build
python -m twine upload dist/*    # or: uv publish
```

Writing, testing and publishing packs: toolkit's documentation, `docs/packs.md`.
"""


def scaffold(name: str, parent: Path) -> Path:
    """Create ``parent/name``: the distribution ``toolkit-<name>`` of the pack ``name``
    (import package ``toolkit_<name>``), with one tool, a configuration model, an evaluation
    case, a test and a README. It installs and passes its test as generated.

    Returns:
        The new directory.

    Raises:
        ValueError: ``name`` is not a usable pack name, or ``parent/name`` exists; the
            message says what to do instead.
        OSError: the files cannot be written (nothing is left behind).
    """
    problem = _name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    target = Path(parent) / name
    if target.exists() or target.is_symlink():
        raise ValueError(
            f"{target} already exists: choose another pack name, or move it out of the way"
        )
    package = f"toolkit_{name.replace('-', '_')}"
    values = {
        "name": name,
        "distribution": f"toolkit-{name.replace('_', '-')}",
        "package": package,
        "toolkit": f"toolkit-llm>={toolkit.__version__}",  # the toolkit writing it, or newer
    }
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"src/{package}/__init__.py": _PACKAGE,
        f"tests/test_{name.replace('-', '_')}.py": _TEST,
    }
    target.mkdir(parents=True)
    try:
        for relative, template in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(template).substitute(values), encoding="utf-8")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # ours: it did not exist a moment ago
        raise
    return target


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new pack, with the fix; ``None`` if it can."""
    problem = namespace_problem(name)
    if problem is not None:
        return f"cannot create the pack: {problem}"
    if name != name.lower():
        return (
            f"cannot create the pack {name!r}: a pack's name is in lower case (it names the"
            f" distribution and the Python package too); use {name.lower()!r}"
        )
    return None

"""The model endpoint of ``toolkit run`` and ``toolkit eval``: options, then environment.

The SDK reads its own variables (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``); toolkit adds ``TOOLKIT_MODEL`` and
``TOOLKIT_PROVIDER`` (also read by the examples) for what the options leave out.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.cli._common import EXIT_USAGE, CommandError

__all__ = ["ENVIRONMENT", "PROVIDERS", "Endpoint", "add_options", "endpoint"]

PROVIDERS = ("openai", "anthropic")

ENVIRONMENT = """\
environment:
  OPENAI_API_KEY         the key of OpenAI or of an OpenAI-compatible server (Chat
                         Completions; any value for a local server that checks none)
  OPENAI_BASE_URL        that server's URL, when it is not OpenAI's
  ANTHROPIC_API_KEY      the key of Anthropic's Messages API
  ANTHROPIC_BASE_URL     its URL, when it is not Anthropic's
  TOOLKIT_MODEL          the model, when --model is not given
  TOOLKIT_PROVIDER       the provider, when --provider is not given; without either, openai
                         if an OPENAI_ variable above is set, else anthropic if an ANTHROPIC_
                         one is
  NO_COLOR, FORCE_COLOR  colour off; colour on even when not writing to a terminal"""
"""The variables, as the help of ``run`` and ``eval`` lists them."""

_KEYS = {"openai": ("OPENAI_API_KEY",), "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")}
_URLS = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
_TITLES = {"openai": "OpenAI", "anthropic": "Anthropic"}

_NOTHING_SET = """\
no model endpoint is configured; set the variables of one:
  OpenAI, or any OpenAI-compatible server (vLLM, llama.cpp's server, a gateway...):
    OPENAI_API_KEY       its key (any value for a local server that checks none)
    OPENAI_BASE_URL      its URL, when it is not OpenAI's (e.g. http://127.0.0.1:8080/v1)
  Anthropic:
    ANTHROPIC_API_KEY    its key
    ANTHROPIC_BASE_URL   its URL, when it is not Anthropic's"""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A provider and a model; the client reads the rest from the environment."""

    provider: str
    model: str

    def client(self) -> Any:
        """A new sync client of the provider's SDK (close it when done)."""
        if self.provider == "anthropic":
            import anthropic  # the SDKs are imported by the commands that talk to a model

            return anthropic.Anthropic()
        import openai

        return openai.OpenAI()


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--provider``."""
    parser.add_argument("--model", help="the model's name (default: $TOOLKIT_MODEL)")
    parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        metavar="PROVIDER",
        help="openai (OpenAI or any compatible server) or anthropic (default: see environment)",
    )


def endpoint(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint the options and the environment select.

    Raises:
        CommandError: (status 2) no provider is configured, its key is not set, or no model
            is named; the message lists every variable to set.
    """
    env = os.environ if environ is None else environ
    model: str = args.model or env.get("TOOLKIT_MODEL", "").strip()
    provider: str | None = args.provider or env.get("TOOLKIT_PROVIDER", "").strip() or None
    if provider is not None and provider not in PROVIDERS:
        raise CommandError(
            f"TOOLKIT_PROVIDER={provider!r}: use one of {', '.join(PROVIDERS)}", code=EXIT_USAGE
        )
    if provider is None:
        provider = next(
            (name for name in PROVIDERS if any(env.get(v) for v in (*_KEYS[name], _URLS[name]))),
            None,
        )
    problems: list[str] = []
    if provider is None:
        problems.append(_NOTHING_SET)
    elif not any(env.get(variable) for variable in _KEYS[provider]):
        key = _KEYS[provider][0]
        problems.append(
            f"the {provider} provider needs its key: set {key}"
            + (" (any value for a local server that checks none)" if provider == "openai" else "")
            + f", and {_URLS[provider]} when the server is not {_TITLES[provider]}'s"
        )
    if not model:
        problems.append("no model is named: pass --model NAME or set TOOLKIT_MODEL")
    if problems or provider is None:
        raise CommandError("\n".join(problems), code=EXIT_USAGE)
    return Endpoint(provider, model)

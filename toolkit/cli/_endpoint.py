"""The model endpoint of ``toolkit run`` and ``toolkit eval``: options, then environment.

The SDK reads its own variables (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``); toolkit adds ``TOOLKIT_MODEL`` and
``TOOLKIT_PROVIDER`` for what the options leave out, and ``TOOLKIT_BASE_URL`` and
``TOOLKIT_API_KEY``, which win over the SDK's: the variables the examples read, read the
same way.
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
                         if an OPENAI_ or TOOLKIT_ variable above or below is set, else
                         anthropic if an ANTHROPIC_ one is
  TOOLKIT_BASE_URL       the server's URL, over OPENAI_BASE_URL or ANTHROPIC_BASE_URL
  TOOLKIT_API_KEY        the key, over OPENAI_API_KEY or ANTHROPIC_API_KEY
  NO_COLOR, FORCE_COLOR  colour off; colour on even when not writing to a terminal"""
"""The variables, as the help of ``run`` and ``eval`` lists them."""

_KEYS = {
    "openai": ("TOOLKIT_API_KEY", "OPENAI_API_KEY"),
    "anthropic": ("TOOLKIT_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
}
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
    base_url: str | None = None  # None: the SDK reads its own variable
    api_key: str | None = None

    def client(self) -> Any:
        """A new sync client of the provider's SDK (close it when done)."""
        if self.provider == "anthropic":
            import anthropic  # the SDKs are imported by the commands that talk to a model

            return anthropic.Anthropic(base_url=self.base_url, api_key=self.api_key)
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key)


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
    if provider is None:  # (the TOOLKIT_ variables are first in openai's lists)
        provider = next(
            (
                name
                for name in PROVIDERS
                if any(env.get(v) for v in (*_KEYS[name], _URLS[name], "TOOLKIT_BASE_URL"))
            ),
            None,
        )
    problems: list[str] = []
    if provider is None:
        problems.append(_NOTHING_SET)
    elif not any(env.get(variable) for variable in _KEYS[provider]):
        key = _KEYS[provider][1]
        problems.append(
            f"the {provider} provider needs its key: set {key} (or TOOLKIT_API_KEY)"
            + (" (any value for a local server that checks none)" if provider == "openai" else "")
            + f", and {_URLS[provider]} when the server is not {_TITLES[provider]}'s"
        )
    if not model:
        problems.append("no model is named: pass --model NAME or set TOOLKIT_MODEL")
    if problems or provider is None:
        raise CommandError("\n".join(problems), code=EXIT_USAGE)
    base_url = env.get("TOOLKIT_BASE_URL", "").strip() or None
    api_key = env.get("TOOLKIT_API_KEY", "").strip() or None
    return Endpoint(provider, model, base_url, api_key)

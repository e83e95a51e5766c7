"""``toolkit eval``: a pack's evaluation cases against a model, case by case and in total."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from toolkit.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    Subparsers,
    add_command,
    parse_config,
    print_json,
)
from toolkit.cli._endpoint import ENVIRONMENT, add_options, endpoint
from toolkit.cli._targets import check_config, load_attribute
from toolkit.cli._terminal import Style, table
from toolkit.packs import EvalReport, Pack, installed_packs, load_pack, run_evals

__all__ = ["register"]

DESCRIPTION = """\
Score a pack's evaluation cases against a model. Each case's prompt is sent once with the
pack's tools, and the calls of the model's first reply are compared with the calls the case
expects. The tools are never run, so evaluating a pack of destructive tools is safe.

For each case: whether the expected tools were chosen, whether their arguments matched, and
what went wrong. Then the totals: the tool accuracy (the share of cases with the right
tools) and the argument accuracy (with the right arguments too: the cases that passed).

PACK is an installed pack's name, or MODULE:ATTR or PATH.py:ATTR naming a Pack."""

EPILOG = f"""\
examples:
  toolkit eval weather --model gpt-4o-mini
  toolkit eval weather --model claude-haiku-4-5 --provider anthropic --json
  toolkit eval weather_pack/pack.py:pack --model qwen2.5 --min-accuracy 0.8

exit status:
  0 the argument accuracy reached --min-accuracy (by default 1: every case passed);
  1 it did not, or the pack failed to load; 2 a usage error, or no endpoint configured

{ENVIRONMENT}"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "eval",
        _command,
        summary="score a pack's evaluation cases against a model",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument("pack", metavar="PACK", help="the pack to evaluate (see above)")
    add_options(parser)
    parser.add_argument("--config", metavar="JSON", help="the pack's configuration, a JSON object")
    parser.add_argument(
        "--min-accuracy",
        metavar="SHARE",
        type=_share,
        default=1.0,
        help="the argument accuracy to reach, from 0 to 1 (default: 1)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _command(args: argparse.Namespace) -> int:
    chosen = endpoint(args)
    config = parse_config(args.config)
    pack = _pack(args.pack)
    check_config(f"pack {pack.name!r}", pack, config)
    with chosen.client() as client:
        report = run_evals(pack, client, model=chosen.model, config=config)
    minimum: float = args.min_accuracy
    if args.json:
        print_json(_as_json(report, chosen.provider, minimum))
    else:
        _print(report, chosen.provider, Style.for_stream(sys.stdout))
    if report.argument_accuracy < minimum:
        passed = sum(outcome.passed for outcome in report.outcomes)
        sys.stderr.write(
            f"toolkit eval: {passed} of {len(report.outcomes)} cases passed: an argument"
            f" accuracy of {report.argument_accuracy:.0%}, below --min-accuracy {minimum:g}\n"
        )
        return EXIT_FAILED
    return EXIT_OK


def _pack(spec: str) -> Pack:
    if ":" in spec:
        found = load_attribute(spec)
        if not isinstance(found, Pack):
            raise CommandError(f"{spec} is a {type(found).__name__}, not a Pack", code=EXIT_USAGE)
        return found
    names = sorted({info.name for info in installed_packs()})
    if spec not in names:
        raise CommandError(
            f"no installed pack is named {spec!r} (installed: {', '.join(names) or 'none'})",
            code=EXIT_USAGE,
        )
    return load_pack(spec)


def _print(report: EvalReport, provider: str, style: Style) -> None:
    count = len(report.outcomes)
    lines = [
        f"pack {report.pack!r}, model {report.model!r} ({provider}):"
        f" {count} case{'s' if count != 1 else ''}",
        "",
    ]
    rows = [
        [
            outcome.case.title,
            style.mark(outcome.tool_chosen),
            style.mark(outcome.arguments_matched),
            "; ".join(_problems(outcome.problems, outcome.error)),
        ]
        for outcome in report.outcomes
    ]
    lines += table(["CASE", "TOOL", "ARGUMENTS", "PROBLEMS"], rows, style)
    chosen = sum(outcome.tool_chosen for outcome in report.outcomes)
    passed = sum(outcome.passed for outcome in report.outcomes)
    lines += [
        "",
        f"tool accuracy:     {report.tool_accuracy:>4.0%} ({chosen} of {count} cases)",
        f"argument accuracy: {report.argument_accuracy:>4.0%} ({passed} of {count} cases)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def _as_json(report: EvalReport, provider: str, minimum: float) -> dict[str, Any]:
    return {
        "pack": report.pack,
        "model": report.model,
        "provider": provider,
        "cases": [
            {
                "name": outcome.case.title,
                "prompt": outcome.case.prompt,
                "passed": outcome.passed,
                "tool_chosen": outcome.tool_chosen,
                "arguments_matched": outcome.arguments_matched,
                "calls": [{"name": c.name, "arguments": c.arguments} for c in outcome.calls],
                "problems": list(outcome.problems),
                "error": outcome.error,
            }
            for outcome in report.outcomes
        ],
        "tool_accuracy": report.tool_accuracy,
        "argument_accuracy": report.argument_accuracy,
        "min_accuracy": minimum,
    }


def _problems(problems: tuple[str, ...], error: str | None) -> list[str]:
    return [*problems, f"the request failed: {error}"] if error is not None else list(problems)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1")
    return value

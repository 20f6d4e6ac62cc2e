"""The `qa` commands' shared options (wallboard/cli/quality.py `qa_command`): each command's
help lists its arguments, `--as`, its own options, then `--expect-version` and `--json`, each
once; `--as` is required where the command acts as someone, `--expect-version` is offered by
the commands that change an evaluation a person has read."""

from __future__ import annotations

import click
from click.testing import CliRunner

from wallboard.cli.quality import qa

CHANGES_A_READ_EVALUATION = {"score", "correct", "respond", "settle"}
NO_ACTOR = {"card list", "card show"}
OPTIONAL_ACTOR = {"sample"}  # the server draws as the system


def commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in qa.commands.items():
        if isinstance(command, click.Group):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def test_every_qa_command_lists_the_shared_options_once_in_their_places() -> None:
    every = commands()
    assert len(every) == 18
    for name, command in every.items():
        options = [p.opts[0] for p in command.params if isinstance(p, click.Option)]
        assert len(options) == len(set(options)), name
        assert ("--expect-version" in options) == (name in CHANGES_A_READ_EVALUATION), name
        if name != "calibration":  # --format json instead
            assert options[-1] == "--json", name
        if "--expect-version" in options:
            assert options[-2:] == ["--expect-version", "--json"], name
        actor = next((p for p in command.params if p.name == "actor"), None)
        if name in NO_ACTOR:
            assert actor is None, name
        else:
            assert actor is not None and actor.required == (name not in OPTIONAL_ACTOR), name
            arguments = [p for p in command.params if isinstance(p, click.Argument)]
            assert command.params[len(arguments)] is actor, name  # --as first after the arguments


def test_a_missing_as_is_a_usage_error_before_any_database_is_opened() -> None:
    result = CliRunner().invoke(qa, ["show", "QA-000001"], obj=None)
    assert result.exit_code != 0 and "Missing option '--as'" in result.output

"""The `chiso` command as a person meets it: help with examples, --version, clean logs."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import pytest

from chiso import __version__, cli
from tests.conftest import REPO


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_every_option_has_help_with_an_example():
    parser = cli.build_parser()
    for name, sub in _subparsers(parser).items():
        assert "example" in (sub.epilog or ""), name
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"chiso {name} {action.dest}: no help"
            assert "e.g." in action.help or "example" in action.help or action.dest == "batch" \
                or "(default" in action.help, f"chiso {name} {action.dest}: no example"


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"chiso {__version__}"


def test_logs_off_a_terminal_are_iso_and_never_wrapped(tmp_path):
    long_path = tmp_path / ("a-very-long-folder-name-" * 6) / "submissions"
    proc = subprocess.run([sys.executable, "-m", "chiso.cli", "run", "--submissions", str(long_path),
                           "--period", "2025-09"], capture_output=True, text=True, timeout=120,
                          cwd=REPO)
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert str(long_path) in line  # one line, the path whole


def test_log_lines_carry_iso_timestamps(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "chiso.cli", "generate", "--out", str(tmp_path / "g"),
                           "--periods", "2025-09", "--units", "1"], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} INFO ", first), first


def test_extracted_counts_print_as_integers():
    text = json.dumps({"figures": [
        {"name": "dossiers_received", "value": 1069.0, "unit": "count", "max_value": None},
        {"name": "rate_online", "value": 94.76, "unit": "percent", "max_value": 100.0},
        {"name": "score_total", "value": 90.0, "unit": "points", "max_value": 100.0}]})
    figures = json.loads(cli.whole_numbers(text, "json"))["figures"]
    assert [(f["value"], f["max_value"]) for f in figures] == [(1069, None), (94.76, 100), (90.0, 100)]
    assert "1069," in json.dumps(figures[0]) and "1069.0" not in json.dumps(figures[0])
    csv_text = "name,value,unit,max_value\ndossiers_received,1069.0,count,\nrank,3.0,rank,12.0\n" \
               "rate_online,94.0,percent,100.0\n"
    assert cli.whole_numbers(csv_text, "csv").splitlines()[1:] == [
        "dossiers_received,1069,count,", "rank,3,rank,12", "rate_online,94.0,percent,100"]


def test_an_error_without_a_message_still_names_itself(monkeypatch, capsys):
    def fails(args):
        raise AssertionError()

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda argv: argparse.Namespace(func=fails, verbose=False))
    assert cli.main([]) == 1
    assert "error: AssertionError (details: chiso -v" in capsys.readouterr().err

"""`leadrules check`: exit codes, every output format, folders and included files, colour."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from leadrules.cli import main
from leadrules.commands import check as check_command

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"

CLEAN = """agreement "T" {
    currency EUR
}
lead {
    size int
}
score fit {
    +10 when size >= 50
}
"""
WARNING = CLEAN + 'list unused = {"a"}\n'
BROKEN = CLEAN + "segment s {\n    sise >= 5\n}\nscore other {\n    +1 when s\n}\n"


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clean.leadrules").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "warning.leadrules").write_text(WARNING, encoding="utf-8")
    (tmp_path / "broken.leadrules").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def run(*args: str, color: bool = False):
    return CliRunner().invoke(main, ["check", *args], color=color)


def test_clean_file_exits_0(workdir) -> None:
    result = run("clean.leadrules")
    assert result.exit_code == 0
    assert result.stdout == "1 file checked: no problem found.\n"


def test_warnings_exit_0_unless_strict(workdir) -> None:
    result = run("warning.leadrules")
    assert result.exit_code == 0
    assert "warning[LR702]" in result.stdout
    assert result.stdout.endswith("1 file checked: 1 warning.\n")
    strict = run("--strict", "warning.leadrules")
    assert strict.exit_code == 1
    assert "(--strict: warnings fail)" in strict.stdout


def test_errors_exit_1_with_source_line_caret_and_help(workdir) -> None:
    result = run("broken.leadrules")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:4] == [
        "broken.leadrules:11:5: error[LR101]: unknown name 'sise'",
        "  11 |     sise >= 5",
        "     |     ^^^^",
        "     = help: did you mean 'size'?",
    ]
    assert result.stdout.endswith("1 file checked: 1 error.\n")
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_every_problem_of_every_file_sorted(workdir) -> None:
    result = run("warning.leadrules", "broken.leadrules", "clean.leadrules")
    assert result.exit_code == 1
    heads = [line for line in result.stdout.splitlines() if "[LR" in line]
    assert [h.split(":")[0] for h in heads] == ["broken.leadrules", "warning.leadrules"]
    assert result.stdout.endswith("3 files checked: 1 error and 1 warning.\n")


@pytest.mark.parametrize("args", [(), ("missing.leadrules",), ("empty_folder",),
                                  ("--format", "xml", "clean.leadrules"), ("--nope",)])
def test_usage_errors_exit_2(workdir, args) -> None:
    (workdir / "empty_folder").mkdir()
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_path_is_named(workdir) -> None:
    result = run("clean.leadrules", "missing.leadrules")
    assert result.exit_code == 2
    assert "the file 'missing.leadrules' does not exist" in result.stderr


def test_folders_are_searched_and_included_files_reported_once(workdir) -> None:
    rules = workdir / "rules"
    (rules / "shared").mkdir(parents=True)
    (rules / "shared" / "common.leadrules").write_text(
        'lead {\n    size int\n}\nlist unused = {"a"}\n', encoding="utf-8")
    for name in ("one", "two"):
        (rules / f"{name}.leadrules").write_text(
            f'include "shared/common.leadrules"\nscore {name} {{\n    +1 when size > 1\n}}\n',
            encoding="utf-8")
    result = run("--format", "json", "rules")
    data = json.loads(result.stdout)
    assert [(d["code"], d["file"]) for d in data["diagnostics"]] == [
        ("LR702", str(Path("rules/shared/common.leadrules")))]
    assert data["summary"] == {"errors": 0, "warnings": 1, "files": 3}


def test_json(workdir) -> None:
    result = run("--format", "json", "broken.leadrules")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["diagnostics"] == [{
        "code": "LR101", "severity": "error", "message": "unknown name 'sise'",
        "hint": "did you mean 'size'?", "file": "broken.leadrules", "line": 11, "column": 5,
        "end_line": 11, "end_column": 9}]
    assert data["summary"] == {"errors": 1, "warnings": 0, "files": 1}
    assert result.stderr == "1 file checked: 1 error.\n"


def test_github(workdir) -> None:
    result = run("--format", "github", "broken.leadrules", "warning.leadrules")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=broken.leadrules,line=11,col=5,endLine=11,endColumn=9,"
        "title=leadrules LR101::unknown name 'sise'%0Ahelp: did you mean 'size'?",
        "::warning file=warning.leadrules,line=10,col=1,endLine=10,endColumn=20,"
        "title=leadrules LR702::the list 'unused' is never used%0A"
        "help: use it in a condition (`… in unused`), or remove it",
    ]


def test_sarif(workdir) -> None:
    result = run("--format", "sarif", "broken.leadrules", "warning.leadrules")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "leadrules"
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["LR101", "LR702"]
    first = run_["results"][0]
    assert first["ruleId"] == "LR101" and first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "broken.leadrules"},
        "region": {"startLine": 11, "startColumn": 5, "endLine": 11, "endColumn": 9}}
    assert run_["results"][1]["level"] == "warning"


@pytest.mark.parametrize(("strict", "failures"), [(False, 1), (True, 2)])
def test_junit(workdir, strict, failures) -> None:
    args = ["--format", "junit", "clean.leadrules", "broken.leadrules", "warning.leadrules"]
    result = run(*(["--strict"] if strict else []), *args)
    root = ElementTree.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == str(failures)
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"clean.leadrules", "broken.leadrules", "warning.leadrules"}
    assert cases["clean.leadrules"].find("failure") is None
    assert cases["broken.leadrules"].find("failure").get("type") == "LR101"
    warned = cases["warning.leadrules"]
    assert (warned.find("failure") is not None) == strict
    if not strict:
        assert "LR702" in warned.find("system-out").text


def test_junit_survives_control_characters(workdir) -> None:
    (workdir / "odd.leadrules").write_text("segment s {\n    a == \x01\n}\n", encoding="utf-8")
    result = run("--format", "junit", "odd.leadrules")
    assert result.exit_code == 1
    ElementTree.fromstring(result.stdout)


def test_colour_only_on_a_terminal(workdir, monkeypatch) -> None:
    monkeypatch.setattr(check_command, "_colour", lambda stream: True)
    assert "\x1b[" in run("broken.leadrules", color=True).stdout

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.undo()
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert check_command._colour(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not check_command._colour(Tty())


def test_terminal_escapes_from_a_rule_file_are_neutralised(workdir) -> None:
    (workdir / "esc.leadrules").write_text(
        'lead {\n    c text\n}\nsegment s {\n    c == "\x1b[2J" and zz == 1\n}\n',
        encoding="utf-8")
    result = run("esc.leadrules", color=True)
    assert "\x1b[2J" not in result.stdout and "\ufffd[2J" in result.stdout


def test_the_installed_command(tmp_path) -> None:
    exe = shutil.which("leadrules", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, "check", str(REFERENCE)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("1 file checked: 2 warnings.")
    assert "warning[LR605]" in done.stdout
    usage = subprocess.run([exe, "check"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "Usage:" in usage.stderr


def test_test_blocks_run_unless_no_tests(workdir) -> None:
    (workdir / "tested.leadrules").write_text(CLEAN + """test "Big company" {
    as of 2027-03-01
    lead { size: 80 }
    expect fit == 99
}
""", encoding="utf-8")
    result = run("tested.leadrules")
    assert result.exit_code == 1
    assert 'error[LR810]: test "Big company": expected fit == 99' in result.stdout
    assert run("--no-tests", "tested.leadrules").exit_code == 0


def test_links_and_pipes_named_like_rule_files_are_never_read(tmp_path):
    """A pull request cannot make CI print a file of the machine, or hang it: a `.leadrules`
    link to another kind of file, a pipe, or an include of either is reported, not read."""
    import os

    secret = tmp_path / "secret.env"
    secret.write_text("TOKEN=hunter2\n", encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "evil.leadrules").symlink_to(secret)
    os.mkfifo(rules / "pipe.leadrules")
    (rules / "main.leadrules").write_text(
        'include "evil.leadrules"\ninclude "pipe.leadrules"\ninclude "/dev/zero"\n',
        encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(rules)])
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "TOKEN" not in result.output
    assert "evil.leadrules' leads to" in result.output
    assert "pipe.leadrules' is not an ordinary file" in result.output
    assert "'/dev/zero' is an absolute path" in result.output

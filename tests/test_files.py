"""Files written by leadrules appear whole, with the permissions of an ordinary new file."""

import os
import stat
from pathlib import Path

from leadrules.files import write_atomically
from leadrules.writers import AtomicFile

ROOT = Path(__file__).parents[1]


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_get_ordinary_permissions_not_those_of_a_temporary_file(tmp_path) -> None:
    mask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "a.txt", "é")
        out = AtomicFile(tmp_path / "b.csv")
        out.file.write(b"x")
        out.commit()
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "é"
    assert _mode(tmp_path / "a.txt") == 0o644
    assert _mode(tmp_path / "b.csv") == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_existing_file_keeps_its_permissions(tmp_path) -> None:
    target = tmp_path / "rules.leadrules"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o640


def test_no_command_writes_over_a_file_it_reads(tmp_path):
    """`-o` naming the leads, the rule file or another output is refused before anything is
    written: the CRM export and the rules are never replaced by what a command writes."""
    from click.testing import CliRunner

    from leadrules.cli import main

    rules = tmp_path / "rules.leadrules"
    rules.write_text((ROOT / "rules" / "xeducation.leadrules").read_text(encoding="utf-8"),
                     encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text("Prospect ID\nA\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (rules, leads)}
    cases = [
        (["score", rules, leads, "-o", leads], "-o", "is the leads file"),
        (["score", rules, leads, "-o", tmp_path / "s.csv", "--errors", leads], "--errors",
         "is the leads file"),
        (["score", rules, leads, "-o", tmp_path / "s.csv", "--errors", tmp_path / "s.csv"],
         "--errors", "name the same file"),
        (["compile", rules, "-o", rules], "-o", "is the rule file"),
        (["render", rules, "--format", "html", "-o", rules], "-o", "is the rule file"),
        (["report", rules, "--leads", leads, "--activities", leads, "-o",
          tmp_path / "r.html", "--leads-out", leads], "--leads-out", "is the leads file"),
    ]
    for args, option, words in cases:
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exit_code == 2, (args, result.output)
        assert option in result.output and words in result.output, result.output
    assert {p: p.read_bytes() for p in (rules, leads)} == before
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "r.html").exists()


def test_a_run_stopped_by_kill_leaves_no_file_behind(tmp_path):
    """SIGTERM (a CI timeout) during `score`: no output, no temporary file, exit 143."""
    import signal
    import subprocess
    import sys
    import time

    leads = tmp_path / "leads.csv"
    with open(leads, "w", encoding="utf-8") as f:
        f.write("Prospect ID,Lead Origin\n")
        f.writelines(f"P{i},API\n" for i in range(1_000_000))
    out = tmp_path / "out" / "scores.csv"
    out.parent.mkdir()
    run = subprocess.Popen([sys.executable, "-m", "leadrules", "score",
                            str(ROOT / "rules" / "xeducation.leadrules"), str(leads), "-o",
                            str(out), "--no-progress"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    run.send_signal(signal.SIGTERM)
    code = run.wait(timeout=60)
    if code == 0:  # the machine scored them all in a second: nothing to interrupt
        return
    assert code == 128 + signal.SIGTERM
    assert list(out.parent.iterdir()) == []

"""Files written by leadrules appear whole, with the permissions of an ordinary new file."""

import os
import stat

from leadrules.files import write_atomically
from leadrules.writers import AtomicFile


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

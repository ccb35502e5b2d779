"""Paths -> parsed modules (includes followed) plus the diagnostics of reading and parsing them."""

from __future__ import annotations

from pathlib import Path

from leadrules import ast
from leadrules.diagnostics import Diagnostic, error
from leadrules.syntax import parse

SUFFIX = ".leadrules"
# Includes nested deeper than this are a mistake (or a trap), not an agreement.
MAX_INCLUDE_DEPTH = 32


def read_text(path: Path, display: str, span: ast.Span | None = None
              ) -> tuple[str | None, Diagnostic | None]:
    """The file's text, or the diagnostic saying why it cannot be read."""
    where = span or ast.Span(display, 1, 1, 1, 1)
    if path.exists() and not path.is_file() and not path.is_dir():
        # A device or a pipe would be read for ever.
        return None, error("LR004", f"'{display}' is not an ordinary file", where,
                           "name a rule file saved on disk")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, error("LR004", f"the file '{display}' does not exist", where,
                           "check the path and the spelling of the file name")
    except IsADirectoryError:
        return None, error("LR004", f"'{display}' is a folder, not a rule file", where)
    except OSError as exc:
        return None, error("LR004", f"the file '{display}' cannot be read ({exc.strerror})", where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        return None, error(
            "LR005", f"the file '{display}' is not UTF-8 text (line {line}, character {col} "
            "cannot be read)", span or ast.Span(display, line, col, line, col + 1),
            "save the file as UTF-8 in your editor")
    return text.removeprefix("\ufeff"), None


def load_modules(path: str | Path, text: str | None = None
                 ) -> tuple[tuple[ast.Module, ...], list[Diagnostic]]:
    """The main file first, then every file it includes (each once), in the order met."""
    main = Path(path)
    modules: list[ast.Module] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()

    def visit(file: Path, display: str, source: str | None, stack: tuple[Path, ...],
              span: ast.Span | None) -> None:
        resolved = file.resolve()
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack, resolved)[list(stack).index(resolved):])
            diagnostics.append(error("LR006", f"files include each other in a circle: {chain}",
                                     span or ast.Span(display, 1, 1, 1, 1),
                                     "remove one of these include lines"))
            return
        if resolved in seen:
            return
        seen.add(resolved)
        if source is None:
            source, problem = read_text(file, display, span)
            if problem is not None:
                if span is not None:
                    missing = problem.code == "LR004" and "does not exist" in problem.message
                    problem = error("LR007" if missing else problem.code,
                                    f"the included file '{display}' does not exist"
                                    if missing else problem.message, span, problem.hint)
                diagnostics.append(problem)
                return
        module, found = parse(source, display)
        modules.append(module)
        diagnostics.extend(found)
        for item in module.items:
            if isinstance(item, ast.Include):
                target = file.parent / item.path
                refused = refused_include(item.path, target, len(stack) + 1)
                if refused:
                    diagnostics.append(error("LR009", refused[0], item.span, refused[1]))
                    continue
                visit(target, _display(target), None, (*stack, resolved), item.span)

    visit(main, _display(main), text, (), None)
    return tuple(modules), diagnostics


def refused_include(written: str, target: Path, depth: int) -> tuple[str, str] | None:
    """Why an include is not followed, or None. Rule files come from pull requests: an include
    reads another rule file of the same project, never any file of the machine (whose lines a
    syntax error would print), a device or a pipe (which would never end)."""
    if Path(written).is_absolute():
        return (f"'{written}' is an absolute path",
                "write the path relative to this file, such as \"commun/messageries.leadrules\"")
    if not written.endswith(SUFFIX):
        return (f"'{written}' is not a rule file: only {SUFFIX} files can be included",
                f"include a file whose name ends in {SUFFIX}")
    if depth > MAX_INCLUDE_DEPTH:
        return (f"files include each other more than {MAX_INCLUDE_DEPTH} levels deep",
                "include the common files from the main file instead of from each other")
    real = target.resolve()
    if real.exists() and not real.is_dir() and (real.suffix != SUFFIX or not real.is_file()):
        if not target.is_symlink():
            return f"'{written}' is not an ordinary file", "include a rule file saved on disk"
        return (f"'{written}' leads to '{real}', which is not a rule file",
                f"include the {SUFFIX} file itself, not a link to another kind of file")
    return None


def _display(path: Path) -> str:
    """Paths as the user typed them, relative to the working folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def rule_files(paths) -> tuple[list[Path], list[Diagnostic]]:
    """The `.leadrules` files named by the arguments (folders are searched recursively), and
    the problems: paths that do not exist (LR004), names in a folder that are not rule files
    to read (LR009)."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob(f"*{SUFFIX}"))
            if not found:
                problems.append(error("LR004", f"the folder '{raw}' holds no {SUFFIX} file",
                                      ast.Span(str(raw), 1, 1, 1, 1)))
            for file in found:
                # A link named like a rule file that leads elsewhere (a secret, a device) is
                # not read: its lines would end up in the CI log.
                real = file.resolve()
                if real.suffix != SUFFIX or not real.is_file():
                    what = (f"'{file}' leads to '{real}', which is not a rule file"
                            if file.is_symlink() else f"'{file}' is not an ordinary file")
                    problems.append(error("LR009", what, ast.Span(str(raw), 1, 1, 1, 1),
                                          f"keep only {SUFFIX} files in the folder"))
                else:
                    files.append(file)
        elif path.exists():
            files.append(path)
        else:
            problems.append(error("LR004", f"the file '{raw}' does not exist",
                                  ast.Span(str(raw), 1, 1, 1, 1),
                                  "check the path and the spelling of the file name"))
    return files, problems

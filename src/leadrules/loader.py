"""Paths -> parsed modules (includes followed) plus the diagnostics of reading and parsing them."""

from __future__ import annotations

from pathlib import Path

from leadrules import ast
from leadrules.diagnostics import Diagnostic, error
from leadrules.syntax import parse

SUFFIX = ".leadrules"


def read_text(path: Path, display: str, span: ast.Span | None = None
              ) -> tuple[str | None, Diagnostic | None]:
    """The file's text, or the diagnostic saying why it cannot be read."""
    where = span or ast.Span(display, 1, 1, 1, 1)
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
                visit(target, _display(target), None, (*stack, resolved), item.span)

    visit(main, _display(main), text, (), None)
    return tuple(modules), diagnostics


def _display(path: Path) -> str:
    """Paths as the user typed them, relative to the working folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def rule_files(paths) -> tuple[list[Path], list[Diagnostic]]:
    """The `.leadrules` files named by the arguments (folders are searched recursively)."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob(f"*{SUFFIX}"))
            if not found:
                problems.append(error("LR004", f"the folder '{raw}' holds no {SUFFIX} file",
                                      ast.Span(str(raw), 1, 1, 1, 1)))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(error("LR004", f"the file '{raw}' does not exist",
                                  ast.Span(str(raw), 1, 1, 1, 1),
                                  "check the path and the spelling of the file name"))
    return files, problems

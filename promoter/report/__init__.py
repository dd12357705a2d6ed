"""Report formats: a registry of one module per format, all rendering the same CheckResult.

A format is a module with `NAME` and `render(result, *, title, color) -> str`
(see base.Format); adding one is a new file here and one line in `_MODULES`.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TextIO

from promoter.model.changeset import WriteError, atomic_write
from promoter.model.errors import ToolError, UsageError, shorten
from promoter.model.finding import CheckResult, Location
from promoter.report import codequality, github, junit, markdown, sarif, text
from promoter.report import json as json_format
from promoter.report.base import appendices_of

_MODULES: tuple[ModuleType, ...] = (text, json_format, junit, sarif, codequality, github, markdown)
FORMATS: dict[str, ModuleType] = {m.NAME: m for m in _MODULES}

__all__ = [
    "FORMATS",
    "check_report_paths",
    "parse_output_spec",
    "parse_path_prefix",
    "render",
    "render_reports",
    "use_color",
    "with_path_prefix",
    "write_reports",
    "write_text",
]


def parse_output_spec(spec: str) -> tuple[str, str | None]:
    """`FORMAT[=FILE]` → (format, file or None for stdout); `-` as the file also means stdout."""
    name, sep, path = spec.partition("=")
    name = name.strip().lower()
    if name not in FORMATS:
        raise UsageError(
            f"--output {shorten(spec)!r}: unknown format {shorten(name, 40)!r}; known formats: {', '.join(sorted(FORMATS))}"
        )
    if sep and not path.strip():
        raise UsageError(
            f"--output {shorten(spec)!r}: no file after '='; write FORMAT=FILE, or FORMAT alone for stdout"
        )
    path = path.strip()
    return name, (None if not sep or path == "-" else path)


def parse_path_prefix(value: str) -> str:
    """`--path-prefix DIR` as a clean POSIX prefix: '' for the root ('.', ''), else 'a/b/'.

    Reports name files relative to the checkout's root, so DIR must stay inside it: no absolute
    path, no '..'.
    """
    text = value.strip().replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise UsageError(
            f"--path-prefix {value!r}: give the folder relative to the checkout's root, not an absolute path"
        )
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UsageError(f"--path-prefix {value!r}: '..' would point outside the checkout")
    return "".join(p + "/" for p in parts)


def with_path_prefix(result: CheckResult, prefix: str) -> CheckResult:
    """A copy of `result` whose repository-relative file locations start with `prefix`.

    The repository promoter checked can be a folder inside the CI checkout (the Action's `repo:`);
    annotations, SARIF, Code Quality and JUnit must name files from the checkout's root.
    """
    if not prefix:
        return result
    import dataclasses

    def moved(loc: Location | None) -> Location | None:
        if loc is None or not loc.file or loc.file.startswith("/"):
            return loc
        return dataclasses.replace(loc, file=prefix + loc.file)

    return CheckResult(
        findings=[dataclasses.replace(f, location=moved(f.location)) for f in result.findings],
        subjects=[dataclasses.replace(s, location=moved(s.location)) for s in result.subjects],
        targets=list(result.targets),
        stats=dict(result.stats),
    )


def render(result: CheckResult, fmt: str, *, title: str, color: bool = False) -> str:
    try:
        module = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown output format {fmt!r}; known formats: {', '.join(sorted(FORMATS))}") from None
    return module.render(result, title=title, color=color)


def use_color(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_reports(
    result: CheckResult,
    outputs: list[tuple[str, str | None]],
    *,
    title: str,
    color: bool = False,
) -> list[tuple[str | None, str]]:
    """Each requested output rendered: (file or None for stdout, text). Colour is for stdout text only."""
    return [(path, render(result, fmt, title=title, color=color and path is None)) for fmt, path in outputs]


def write_reports(
    result: CheckResult,
    outputs: list[tuple[str, str | None]],
    *,
    title: str,
    color: bool | None = None,
    stdout: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    redact: Callable[[str], str] | None = None,
) -> None:
    """Render every output and write it: stdout, or a file replaced atomically (a reader never sees half).

    `redact` masks secrets in every text written (the commands pass the environment's tokens).
    `color=None` decides by the terminal; NO_COLOR always wins. Formats that append to a file the
    platform names (GitHub's $GITHUB_STEP_SUMMARY) get it appended here, once per format.
    """
    stream = stdout if stdout is not None else sys.stdout
    env = os.environ if environ is None else environ
    want_color = use_color(stream, env) if color is None else (color and not env.get("NO_COLOR"))
    redact = redact or str
    for (fmt, _), (path, body) in zip(
        outputs, render_reports(result, outputs, title=title, color=want_color), strict=True
    ):
        body = redact(body)
        if path is None:
            stream.write(body)
            continue
        target = Path(path) if cwd is None or Path(path).is_absolute() else cwd / path
        _write_report(target, body, f"the {fmt} report to {path}")
    stream.flush()
    for fmt in dict.fromkeys(fmt for fmt, _ in outputs):
        for extra in appendices_of(FORMATS[fmt], result, title=title, environ=env):
            try:
                with extra.path.open("a", encoding="utf-8") as fh:
                    fh.write(redact(extra.text))
            except OSError as exc:
                raise ToolError(f"cannot append the {extra.what} to {extra.path}: {exc.strerror or exc}") from None


def write_text(body: str, path: str | None, *, what: str, stdout: TextIO | None = None) -> None:
    """Text to stdout (path None) or to a file replaced atomically, as reports are written."""
    if path is None:
        stream = stdout if stdout is not None else sys.stdout
        stream.write(body)
        stream.flush()
        return
    _write_report(Path(path), body, f"{what} to {path}")


def _write_report(target: Path, body: str, what: str) -> None:
    """A regular file (or a new one) is replaced atomically; an existing device or pipe
    (`/dev/null`, `/dev/stderr`, `>(cat)`) is written in place, never renamed over. A failed write
    (a full disk, EIO, a closed pipe) is one ToolError: a report that did not arrive is not a pass."""
    try:
        st = target.stat()
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"cannot write {what}: it is a folder; name the report file inside it")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            with open(target, "wb") as fh:
                fh.write(body.encode("utf-8"))
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, body, shown=str(target))
    except WriteError as exc:
        raise ToolError(f"cannot write {what}: {exc.reason}") from None
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.EISDIR):  # the path the user gave is no file's path
            raise UsageError(f"cannot write {what}: {exc.strerror or exc}") from None
        raise ToolError(f"cannot write {what}: {exc.strerror or exc}") from None


def check_report_paths(
    outputs: list[tuple[str, str | None]],
    *,
    reads: Iterable[tuple[str, Path]] = (),
    repo: Path | None = None,
    cwd: Path | None = None,
) -> None:
    """Refuse, before any work (exit 2), a report file that is another report's file, one of the
    files or folders the command reads (`reads`: (what, path), e.g. the config, --policy, --data),
    or a file the repository's Git tracks: the report would overwrite the input it judged."""
    from promoter.locate.scan import yaml_name  # the names a scan reads; imported only when a report is asked for

    seen: dict[Path, str] = {}
    inputs = [(what, _real(p)) for what, p in reads]
    for fmt, path in outputs:
        if path is None:
            continue
        given = Path(path) if cwd is None or Path(path).is_absolute() else cwd / path
        target = _real(given)
        special = target.exists() and not target.is_file()  # /dev/null may take several reports
        if target in seen and not special:
            raise UsageError(
                f"--output {fmt}={shorten(path)}: the {seen[target]} report is written to that file already; "
                "give each report its own file"
            )
        seen[target] = fmt
        for what, real in inputs:
            if target == real or real in target.parents:
                raise UsageError(
                    f"--output {fmt}={shorten(path)}: that is {what}, which this command reads; "
                    "write the report somewhere else"
                )
        if repo is not None:
            root = _real(repo)
            inside = root in target.parents
            # A worktree's or submodule's Git folder lies outside its work tree: looked for either way.
            if (inside and ".git" in target.relative_to(root).parts) or _in_git_dir(root, target):
                raise UsageError(
                    f"--output {fmt}={shorten(path)}: that is inside the repository's Git folder; "
                    "write the report somewhere else"
                )
            if not inside:
                continue
            rel = target.relative_to(root).as_posix()
            if target.is_file() and _tracked(root, rel):
                raise UsageError(
                    f"--output {fmt}={shorten(path)}: {rel} is a file of the "
                    "repository (Git tracks it); write the report somewhere else"
                )
            if yaml_name(target.name):
                # Whether it exists or not: a YAML file in the repository is read as a manifest (or as
                # the configuration) by this run or the next one.
                raise UsageError(
                    f"--output {fmt}={shorten(path)}: {rel} is a YAML file in the repository, which check "
                    "reads as a manifest or configuration; write the report somewhere else"
                )


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a symlink loop: compared as written
        return path.absolute()


def _in_git_dir(repo: Path, target: Path) -> bool:
    """Whether `target` lies in the Git folder of `repo` (a worktree's or submodule's lives elsewhere)."""
    from promoter.model.lock import git_dir  # the folder found as the repository lock finds it: no git call

    found = git_dir(repo)
    if found is None:
        return False
    real = _real(found)
    return target == real or real in target.parents


def _tracked(repo: Path, rel: str) -> bool:
    from promoter.history.git import run_git

    try:
        return run_git(repo, "ls-files", "--error-unmatch", "--", rel, check=False).returncode == 0
    except Exception:  # not a Git repository, or no git: nothing is tracked
        return False

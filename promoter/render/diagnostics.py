"""Diagnostics: kustomize's and helm's error text read into one line and the file (and line) it is about."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from promoter.model.finding import Location
from promoter.render.graph import KUSTOMIZATION_NAMES, Target

_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] "command failed" err=(?P<rest>.*)$')


def kustomize_error(stderr: str, repo: Path) -> str:
    """kustomize's complaint as one readable line: kubectl's log framing removed, paths repo-relative."""
    lines = stderr.splitlines()
    text = ""
    for i, line in enumerate(lines):
        m = _KLOG.match(line)
        if not m:
            continue
        rest = m.group("rest")
        if rest.startswith('"'):
            try:
                text = json.loads(rest)
            except ValueError:
                text = rest.strip('"')
        elif rest == "<":  # klog writes multi-line values between `<` and ` >`
            body = []
            for more in lines[i + 1 :]:
                if more.strip() == ">":
                    break
                body.append(more.removeprefix("\t"))
            text = "\n".join(body)
        break
    if not text:
        text = "\n".join(line.removeprefix("Error: ") for line in lines if line.strip())
    root = str(repo.resolve())
    text = text.replace(root + "/", "").replace(root, ".")
    return " ".join(text.split())


def locate_kustomize_error(message: str, repo: Path, target: Target) -> Location:
    """The file (and line) a kustomize error is about: a file it names, else the kustomization that refers to it."""
    dirs = re.findall(r"recursed accumulation of path '([^']+)'", message)
    here = posixpath.normpath(dirs[-1]) if dirs else target.path
    kfile = _kustomization_file(repo, here) or (target.origin.file if target.origin else target.path)
    m = re.search(r"yaml: line (\d+)", message)
    line = int(m.group(1)) if m else None
    named = re.search(r"in File: (\S+)", message)
    if named:
        f = posixpath.normpath(posixpath.join(here, named.group(1)))
        if (repo / f).is_file():
            return Location(f, line)
    if "invalid Kustomization" in message:
        return Location(kfile, line)
    # A path kustomize could not load: point at the line of the kustomization that names it.
    for p in reversed(re.findall(r"evalsymlink failure on '([^']+)'", message)):
        p = posixpath.normpath(p)
        if not p.startswith("../") and not posixpath.isabs(p):
            parent = posixpath.dirname(p)
            owner = _kustomization_file(repo, parent) if parent != here else kfile
            for cand in (kfile, owner):
                if cand and (loc := _line_of(repo, cand, posixpath.basename(p))):
                    return loc
    for p in reversed(re.findall(r"'([^'\s]+\.ya?ml)'", message)):
        f = posixpath.normpath(posixpath.join(here, p)) if not (repo / p).is_file() else p
        if (repo / f).is_file():
            return Location(f, line)
    return Location(kfile, line)


def _kustomization_file(repo: Path, d: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        f = name if d in ("", ".") else f"{d}/{name}"
        if (repo / f).is_file():
            return f
    return None


def _line_of(repo: Path, file: str, needle: str) -> Location | None:
    """The first line of `file` mentioning `needle`."""
    try:
        text = (repo / file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return Location(file, n)
    return None


def _first_lines(text: str, limit: int = 3) -> str:
    lines = [line.strip().removeprefix("Error: ") for line in text.splitlines() if line.strip()]
    return " ".join(lines[:limit])

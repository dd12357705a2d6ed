"""The GitHub Action's driver: inputs (one JSON document in the environment) → one promoter run → outputs.

Runs with the Python of promoter's own virtual environment (stdlib only). It refuses inputs it
does not know and inputs the chosen command does not take, turns the rest into promoter's
arguments, runs promoter, and writes the step outputs and a Markdown job summary. Nothing here
is pasted into a shell: arguments go to promoter as a list.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
COMMANDS = ("check", "bump", "promote", "rollback", "status", "images")
# Inputs every command takes, and those of each command. Anything else given is refused.
COMMON = {"command", "repo", "config", "args", "token", "source", "python-version"}
PR = {"pr", "forge-repository", "forge-url", "base-branch", "draft", "auto-merge"}
PROMOTION = {"app", "dry-run", "override-freeze", "wait"} | PR
TAKES: dict[str, set[str]] = {
    "check": {"base", "all", "env", "shard", "policy", "kubernetes-version", "validator", "fail-on", "reports"},
    "bump": {"env", "image", "tag", "path"} | PROMOTION,
    "promote": {"from", "to", "ref", "all", "next", "merged-sha"} | PROMOTION,
    "rollback": {"env", "image"} | PROMOTION,
    "status": {"app", "env", "ref"},
    "images": {"image", "path"},
}
KNOWN = COMMON | set().union(*TAKES.values())
BOOLEANS = {"all", "pr", "dry-run", "draft", "auto-merge", "next", "wait"}
# Report formats that go to a file, and the output naming that file.
REPORT_FILES = {
    "sarif": "promoter.sarif",
    "junit": "promoter-junit.xml",
    "codequality": "gl-code-quality-report.json",
    "json": "promoter.json",
    "markdown": "promoter.md",
    "text": "promoter.txt",
}
# promoter's options that an input sets: in `args` they are refused, naming the input, so `args`
# cannot side-step the checks above (`--pr` without pr: true, `--all` with base, a second --repo).
OPTION_INPUTS = {
    "--repo": "repo",
    "--path-prefix": "repo",  # the action derives it from repo
    "--config": "config",
    "--base": "base",
    "--all": "all",
    "--env": "env",
    "--shard": "shard",
    "--policy": "policy",
    "--kubernetes-version": "kubernetes-version",
    "--validator": "validator",
    "--fail-on": "fail-on",
    "--output": "reports",
    "-o": "reports",
    "--image": "image",
    "--tag": "tag",
    "--path": "path",
    "--app": "app",
    "--from": "from",
    "--to": "to",
    "--ref": "ref",
    "--next": "next",
    "--merged-sha": "merged-sha",
    "--dry-run": "dry-run",
    "--override-freeze": "override-freeze",
    "--wait": "wait",
    "--pr": "pr",
    "--forge": "pr",  # pr: true sets --forge github
    "--forge-repo": "forge-repository",
    "--forge-url": "forge-url",
    "--base-branch": "base-branch",
    "--draft": "draft",
    "--auto-merge": "auto-merge",
    "--no-auto-merge": "auto-merge",
}
SUMMARY_DIFF_LIMIT = 60_000  # characters of diff in the job summary (the summary holds 1 MiB)


class Refused(Exception):
    """A bad input: one line for the log, exit 2, promoter never started."""


# ---- reading the inputs ------------------------------------------------------------------------


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    raw = environ.get("PROMOTER_ACTION_INPUTS")
    if raw is None:
        raise Refused("PROMOTER_ACTION_INPUTS is not set: run this script through action.yml")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Refused(f"PROMOTER_ACTION_INPUTS is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused("PROMOTER_ACTION_INPUTS is not a JSON object")
    # The runner matches input names without regard to case; so does this.
    out: dict[str, str] = {}
    for key, value in data.items():
        out[str(key).lower()] = "" if value is None else str(value)
    return out


def validate(inputs: dict[str, str]) -> str:
    """The command, once every input is known, meant for it, and consistent; else Refused."""
    unknown = sorted(k for k in inputs if k not in KNOWN)
    if unknown:
        hint = "; ".join(f"{k!r}: did you mean {_closest(k)!r}?" for k in unknown if _closest(k)) or ""
        raise Refused(
            f"unknown input(s) {', '.join(repr(k) for k in unknown)}"
            + (f" ({hint})" if hint else "")
            + f"; known inputs: {', '.join(sorted(KNOWN))}"
        )
    command = inputs.get("command", "").strip()
    if command not in COMMANDS:
        raise Refused(f"input command: {command!r} is not one of {', '.join(COMMANDS)}")
    given = {k for k, v in inputs.items() if v.strip() and k not in COMMON}
    foreign = sorted(given - TAKES[command])
    if foreign:
        raise Refused(
            f"{command} does not take the input(s) {', '.join(foreign)}; it takes {', '.join(sorted(TAKES[command] | COMMON))}"
        )
    for name in sorted(BOOLEANS & given):
        if inputs[name].strip().lower() not in ("true", "false"):
            raise Refused(f"input {name}: {inputs[name]!r} is not true or false")
    if inputs.get("fail-on", "").strip() not in ("", "error", "warning", "never"):
        raise Refused(f"input fail-on: {inputs['fail-on']!r} is not error, warning or never")
    if command == "check" and _true(inputs, "all") and inputs.get("base", "").strip():
        raise Refused("check: give base or all: true, not both")
    if command in ("bump", "promote", "rollback"):
        pr_only = sorted(k for k in PR - {"pr"} if k in given)
        if pr_only and not _true(inputs, "pr"):
            raise Refused(f"{', '.join(pr_only)} only matter(s) with pr: true")
        if command == "bump" and _true(inputs, "pr") and inputs.get("path", "").strip():
            raise Refused("bump: pr: true needs app and env (a promotion target), not path")
    _validate_args(inputs.get("args", ""))
    if command == "promote":
        _validate_promote(inputs, given)
    required = {"bump": ("image",), "rollback": ("app", "env", "image")}.get(command, ())
    missing = [k for k in required if not inputs.get(k, "").strip()]
    if missing:
        raise Refused(f"{command} needs the input(s) {', '.join(missing)}")
    if (
        command == "bump"
        and not inputs.get("path", "").strip()
        and not (inputs.get("app", "").strip() and inputs.get("env", "").strip())
    ):
        raise Refused("bump needs app and env (or path)")
    return command


def _validate_args(args: str) -> None:
    """`args` carries only options no input stands for: an option an input sets is refused, naming it."""
    try:
        words = _words(args)
    except ValueError as exc:
        raise Refused(f"input args: {exc}") from None
    for word in words:
        if word == "--":
            break  # what follows is positional
        option = word.split("=", 1)[0] if word.startswith("--") else word[:2]
        name = OPTION_INPUTS.get(option)
        if name is not None:
            raise Refused(f"input args: {option} has its own input; use `{name}:` instead of args")


def _validate_promote(inputs: Mapping[str, str], given: set[str]) -> None:
    """promote has three forms: app + from, all + from, or next (which reads the rest from the merge)."""
    if _true(inputs, "next"):
        extra = sorted(given & {"app", "all", "from", "to", "ref"})
        if extra:
            raise Refused(
                f"promote with next: true reads apps and environments from the merge; it takes no {', '.join(extra)}"
            )
        return
    if inputs.get("merged-sha", "").strip():
        raise Refused("merged-sha only matters with next: true")
    if _true(inputs, "all") and inputs.get("app", "").strip():
        raise Refused("promote: give app or all: true, not both")
    if not _true(inputs, "all") and not inputs.get("app", "").strip():
        raise Refused("promote needs app (one app), all: true (every app that lags) or next: true (after a merge)")
    if not inputs.get("from", "").strip():
        raise Refused("promote needs the input(s) from")


def _true(inputs: Mapping[str, str], name: str) -> bool:
    return inputs.get(name, "").strip().lower() == "true"


def _closest(name: str) -> str | None:
    import difflib

    match = difflib.get_close_matches(name.replace("_", "-"), sorted(KNOWN), n=1, cutoff=0.7)
    return match[0] if match else None


def _words(value: str) -> list[str]:
    """A list input: one item per line or space-separated, quotes honoured, nothing expanded."""
    return shlex.split(value.replace("\n", " "))


# ---- building promoter's arguments -------------------------------------------------------------


class Plan:
    """promoter's argv, the files the run will write, and what the outputs read."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.argv: list[str] = [command]
        self.reports: dict[str, Path] = {}  # format -> file
        self.json_stdout = False  # bump/promote/rollback/status/images: --output json on stdout
        self.needs_token = False


def plan(command: str, inputs: Mapping[str, str], environ: Mapping[str, str], workspace: Path, temp: Path) -> Plan:
    p = Plan(command)
    # The healthy gate reads commit statuses with the token (check, and every promotion); --pr
    # writes with it. status and images never talk to the forge.
    p.needs_token = command in ("check", "bump", "promote", "rollback")
    get = lambda k: inputs.get(k, "").strip()  # noqa: E731
    repo = get("repo") or "."
    p.argv += ["--repo", repo]
    if get("config"):
        p.argv += ["--config", get("config")]
    if command == "check":
        _plan_check(p, inputs, environ, workspace, temp, repo)
    elif command in ("bump", "promote", "rollback"):
        _plan_promotion(p, inputs)
    elif command == "status":
        for flag, key in (("--app", "app"), ("--env", "env"), ("--ref", "ref")):
            if get(key):
                p.argv += [flag, get(key)]
        p.argv += ["--output", "json"]
        p.json_stdout = True
    elif command == "images":
        if get("image"):
            p.argv += ["--image", get("image")]
        # images takes paths as arguments, relative to --repo as on the command line (as bump's path input).
        p.argv += _words(get("path"))
        p.argv += ["--output", "json"]
        p.json_stdout = True
    p.argv += _words(inputs.get("args", ""))
    return p


def _plan_check(
    p: Plan, inputs: Mapping[str, str], environ: Mapping[str, str], workspace: Path, temp: Path, repo: str
) -> None:
    get = lambda k: inputs.get(k, "").strip()  # noqa: E731
    base = get("base") or environ.get("GITHUB_BASE_REF", "").strip()
    if _true(inputs, "all") or not base:
        p.argv.append("--all")
    else:
        p.argv += ["--base", resolve_base(workspace / repo, base)]
    for flag, key in (
        ("--env", "env"),
        ("--shard", "shard"),
        ("--kubernetes-version", "kubernetes-version"),
        ("--validator", "validator"),
        ("--fail-on", "fail-on"),
    ):
        if get(key):
            p.argv += [flag, get(key)]
    for folder in _words(get("policy")):
        p.argv += ["--policy", folder]
    prefix = path_prefix(workspace, workspace / repo)
    if prefix:
        p.argv += ["--path-prefix", prefix]
    out = temp / f"promoter-{uuid.uuid4().hex[:8]}"
    p.reports["json"] = out / REPORT_FILES["json"]
    for spec in _words(get("reports")):
        fmt, sep, file = spec.partition("=")
        fmt = fmt.strip().lower()
        if fmt in ("github",):
            continue  # always written
        if fmt not in REPORT_FILES:
            raise Refused(f"input reports: unknown format {fmt!r}; formats: {', '.join(sorted(REPORT_FILES))}")
        if sep and not file.strip():
            raise Refused(f"input reports: {spec!r} has no file after '='")
        p.reports[fmt] = Path(file.strip()) if sep else out / REPORT_FILES[fmt]
    for fmt, file in p.reports.items():
        p.argv += ["--output", f"{fmt}={file}"]
    p.argv += ["--output", "github"]  # annotations on stdout, the job summary appended by promoter


def _plan_promotion(p: Plan, inputs: Mapping[str, str]) -> None:
    get = lambda k: inputs.get(k, "").strip()  # noqa: E731
    c = p.command
    if c == "bump":
        p.argv += ["--image", get("image")]
        for flag, key in (("--tag", "tag"), ("--app", "app"), ("--env", "env")):
            if get(key):
                p.argv += [flag, get(key)]
        for path in _words(get("path")):
            p.argv += ["--path", path]
    elif c == "promote":
        if _true(inputs, "next"):
            p.argv.append("--next")
            if get("merged-sha"):
                p.argv += ["--merged-sha", get("merged-sha")]
        else:
            p.argv += ["--all"] if _true(inputs, "all") else ["--app", get("app")]
            p.argv += ["--from", get("from")]
            for flag, key in (("--to", "to"), ("--ref", "ref")):
                if get(key):
                    p.argv += [flag, get(key)]
    else:
        p.argv += ["--app", get("app"), "--env", get("env"), "--image", get("image")]
    if _true(inputs, "dry-run"):
        p.argv.append("--dry-run")
    if _true(inputs, "wait"):
        p.argv.append("--wait")
    if get("override-freeze"):
        p.argv += ["--override-freeze", get("override-freeze")]
    if _true(inputs, "pr"):
        p.argv += ["--pr", "--forge", "github"]
        for flag, key in (
            ("--forge-repo", "forge-repository"),
            ("--forge-url", "forge-url"),
            ("--base-branch", "base-branch"),
        ):
            if get(key):
                p.argv += [flag, get(key)]
        if _true(inputs, "draft"):
            p.argv.append("--draft")
        if get("auto-merge"):
            p.argv.append("--auto-merge" if _true(inputs, "auto-merge") else "--no-auto-merge")
    p.argv += ["--output", "json"]
    p.json_stdout = True


def path_prefix(workspace: Path, repo: Path) -> str:
    """The repository folder relative to the workspace ('' at its root or outside it)."""
    try:
        rel = repo.resolve().relative_to(workspace.resolve())
    except ValueError:
        return ""
    return "" if str(rel) == "." else rel.as_posix()


def resolve_base(repo: Path, base: str) -> str:
    """`main`, `origin/main`, `refs/heads/main` or a SHA → a ref git can use, fetched when missing.

    actions/checkout fetches one commit of one branch: the base branch is not there, and the merge
    base needs history, so a shallow clone is deepened while the base is fetched.
    """
    known = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode == 0
    shallow = _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    has_origin = "origin" in _git(repo, "remote").stdout.split()
    bare_name = "/" not in base and not _looks_like_sha(base)
    if not has_origin or (known and not shallow and not bare_name):
        return base  # a ref that is here (upstream/main, a SHA, a tag), with its history
    if _looks_like_sha(base) or (
        known and not base.startswith(("origin/", "refs/remotes/origin/", "refs/heads/")) and not bare_name
    ):
        done = _git(repo, "fetch", "--quiet", "--no-tags", "--unshallow", "origin") if shallow else None
        if done is not None and done.returncode != 0:
            _warn_fetch(base, done)
        return base
    branch = base.removeprefix("refs/heads/").removeprefix("refs/remotes/origin/").removeprefix("origin/")
    fetch = (
        ["fetch", "--quiet", "--no-tags"]
        + (["--unshallow"] if shallow else [])
        + [
            "origin",
            f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
        ]
    )
    done = _git(repo, *fetch)
    if done.returncode != 0:
        _warn_fetch(branch, done)
    return f"origin/{branch}"


def _warn_fetch(what: str, done: subprocess.CompletedProcess[str]) -> None:
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
    print(f"::warning title=promoter::could not fetch {what!r} from origin: {last}", flush=True)


def _looks_like_sha(text: str) -> bool:
    return 7 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text.lower())


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


# ---- running and reporting ---------------------------------------------------------------------


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for name, value in values.items():
            if "\n" in value:
                delim = f"ghadelimiter_{uuid.uuid4()}"
                fh.write(f"{name}<<{delim}\n{value}\n{delim}\n")
            else:
                fh.write(f"{name}={value}\n")


def append_summary(path: str | None, text: str) -> None:
    if path and text:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


def counts_outputs(counts: Mapping[str, int]) -> dict[str, str]:
    return {
        "errors": str(counts.get("error", 0)),
        "warnings": str(counts.get("warning", 0)),
        "notes": str(counts.get("info", 0)),
        "waived": str(counts.get("waived", 0)),
    }


def promotion_outputs(data: Mapping[str, Any], prefix: str) -> dict[str, str]:
    if "promotions" in data:
        return train_outputs(data, prefix)
    files = [f"{prefix}/{f}" if prefix else f for f in data.get("files") or []]
    gates = data.get("gates") or {}
    out = {
        "changed": "true" if data.get("changed") else "false",
        "changed-files": json.dumps(files),
        "image": str(data.get("image") or ""),
    }
    out.update(counts_outputs(gates.get("counts") or {}))
    pr = data.get("pull_request") or {}
    for key, name in (
        ("operation", "operation"),
        ("url", "pr-url"),
        ("number", "pr-number"),
        ("branch", "branch"),
        ("head_sha", "head-sha"),
    ):
        if pr.get(key) is not None:
            out[name] = str(pr[key])
    return out


def train_outputs(data: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """promote --all / --next: many apps; the outputs sum them up, the pull requests and the apps left out listed."""
    steps = [s for s in data.get("promotions") or [] if isinstance(s, dict)]
    files = sorted({f"{prefix}/{f}" if prefix else f for s in steps for f in s.get("files") or []})
    counts: dict[str, int] = {}
    for s in steps:
        for k, v in ((s.get("gates") or {}).get("counts") or {}).items():
            counts[k] = counts.get(k, 0) + int(v)
    pulls = [
        {k: p.get(k) for k in ("number", "url", "operation", "branch")}
        for p in data.get("pull_requests") or []
        if isinstance(p, dict)
    ]
    out = {
        "changed": "true" if any(s.get("changed") for s in steps) else "false",
        "changed-files": json.dumps(files),
        "image": str(steps[0].get("image") or "") if steps else "",
        "left-out": json.dumps([x.get("app") for x in data.get("left_out") or []]),
        "pull-requests": json.dumps(pulls),
    }
    out.update(counts_outputs(counts))
    first = next((p for p in pulls if p.get("url")), None)
    if first is not None:
        out.update(
            {"operation": str(first["operation"]), "pr-url": str(first["url"]), "pr-number": str(first["number"])}
        )
        out["branch"] = str(first["branch"])
    return out


def train_summary(data: Mapping[str, Any], code: int) -> str:
    lines = ["## promoter promote", ""]
    merged = data.get("merged") or {}
    if merged:
        pr = merged.get("pull_request") or {}
        what = f"[#{pr.get('number')}]({pr.get('url')})" if pr.get("url") else f"`{str(merged.get('sha'))[:12]}`"
        lines.append(f"After {what} (read from its {'marker' if merged.get('found_by') == 'marker' else 'diff'}).")
    if data.get("message"):
        lines.append(f"{data['message']} (exit {code})")
    steps = data.get("promotions") or []
    if steps:
        lines.append("\n| app | from | to | image | result |\n|---|---|---|---|---|")
        for s in steps:
            result = "blocked, left out" if s.get("blocked") else ("no change" if s.get("unchanged") else "promoted")
            lines.append(
                f"| {_cell(str(s.get('app')))} | {_cell(str(s.get('from') or '-'))} | {_cell(str(s.get('env')))} | "
                f"`{_cell(str(s.get('image')))}` | {result} |"
            )
    for x in data.get("left_out") or []:
        lines.append(f"\n**{_cell(str(x.get('app')))}** left out: {_cell('; '.join(x.get('why') or []))}")
    for p in data.get("pull_requests") or []:
        if p.get("url"):
            lines.append(
                f"\nPull request [#{p.get('number')}]({p['url']}): {p.get('operation')} (branch `{p.get('branch')}`)"
            )
    return "\n".join(lines) + "\n\n"


def promotion_summary(command: str, data: Mapping[str, Any], code: int, prefix: str) -> str:
    if "promotions" in data:
        return train_summary(data, code)
    lines = [f"## promoter {command}", ""]
    verdict = (
        "blocked by a gate: nothing written"
        if data.get("blocked")
        else (
            "no change"
            if not data.get("changed")
            else ("dry run: nothing written" if data.get("dry_run") else "changed")
        )
    )
    lines.append(f"**{data.get('image', '')}**: {verdict} (exit {code})")
    pr = data.get("pull_request") or {}
    if pr:
        if pr.get("url"):
            lines.append(
                f"\nPull request [#{pr.get('number')}]({pr['url']}): {pr.get('operation')} "
                f"(branch `{pr.get('branch')}`, head `{str(pr.get('head_sha') or '')[:12]}`)"
            )
        else:
            lines.append(f"\nPull request: {pr.get('operation')}: {pr.get('reason') or ''}")
    files = data.get("files") or []
    if files:
        lines.append("\n| file | line | value |\n|---|---|---|")
        for c in data.get("changes") or []:
            where = f"{prefix}/{c['file']}" if prefix else c["file"]
            lines.append(
                f"| `{_cell(where)}` | {c.get('line')} | `{_cell(str(c.get('old')))}` → `{_cell(str(c.get('new')))}` |"
            )
    gates = (data.get("gates") or {}).get("findings") or []
    if gates:
        lines.append("\n| gate | severity | message |\n|---|---|---|")
        for f in gates:
            lines.append(
                f"| {_cell(f['rule'])} | {f['severity']}{' (waived)' if f.get('waived') else ''} | {_cell(f['message'])} |"
            )
    diff = str(data.get("diff") or "")
    if diff:
        shown = diff if len(diff) <= SUMMARY_DIFF_LIMIT else diff[:SUMMARY_DIFF_LIMIT] + "\n… (cut)\n"
        fence = "````" if "```" in shown else "```"
        lines.append(f"\n<details><summary>diff</summary>\n\n{fence}diff\n{shown.rstrip()}\n{fence}\n</details>")
    return "\n".join(lines) + "\n\n"


def status_summary(rows: list[Mapping[str, Any]]) -> str:
    lines = ["## promoter status", "", "| app | env | tag | digest | since | note |", "|---|---|---|---|---|---|"]
    for r in rows:
        digest = str(r.get("digest") or "-")
        lines.append(
            f"| {_cell(str(r.get('app')))} | {_cell(str(r.get('env')))} | {_cell(str(r.get('tag') or '-'))} | "
            f"`{_cell(digest[:19])}` | {_cell(str(r.get('since') or '-'))} | {_cell(str(r.get('error') or r.get('behind') or ''))} |"
        )
    return "\n".join(lines) + "\n\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def run(environ: Mapping[str, str]) -> int:
    workspace = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
    temp = Path(environ.get("RUNNER_TEMP") or "/tmp")
    token = environ.get("PROMOTER_ACTION_TOKEN", "")
    if token:
        # Masked before anything else is printed; the runner hides it from every later line.
        print(f"::add-mask::{token}", flush=True)
    try:
        inputs = read_inputs(environ)
        command = validate(inputs)
        p = plan(command, inputs, environ, workspace, temp)
    except Refused as exc:
        print(f"::error title=promoter::bad input: {exc}", flush=True)
        write_outputs(environ.get("GITHUB_OUTPUT"), {"exit-code": str(EXIT_USAGE)})
        return EXIT_USAGE
    for file in p.reports.values():
        (file if file.is_absolute() else workspace / file).parent.mkdir(parents=True, exist_ok=True)
    venv = environ.get("PROMOTER_VENV", "")
    exe = str(Path(venv) / "bin" / "promoter") if venv else "promoter"
    env = {k: v for k, v in environ.items() if not k.startswith("PROMOTER_ACTION_")}
    env.pop("GITHUB_TOKEN", None)
    if p.needs_token:
        env["GITHUB_TOKEN"] = token
    print("promoter " + shlex.join(p.argv), flush=True)
    proc = subprocess.run(
        [exe, *p.argv],
        env=env,
        cwd=workspace,
        stdout=subprocess.PIPE if p.json_stdout else None,
        text=True,
        check=False,
    )
    code = proc.returncode
    outputs: dict[str, str] = {"exit-code": str(code)}
    prefix = path_prefix(workspace, workspace / (inputs.get("repo", "").strip() or "."))
    if command == "check":
        for fmt, file in p.reports.items():
            full = file if file.is_absolute() else workspace / file
            if full.is_file():
                outputs[f"{fmt}-file"] = str(full)
        report = p.reports["json"]
        # Missing when promoter failed before reporting; its own error line says why.
        with contextlib.suppress(OSError, ValueError):
            outputs.update(counts_outputs(json.loads(report.read_text(encoding="utf-8")).get("counts") or {}))
    elif p.json_stdout:
        text = proc.stdout or ""
        sys.stdout.write(text)
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            data = None
        summary = environ.get("GITHUB_STEP_SUMMARY")
        if command in ("bump", "promote", "rollback") and isinstance(data, dict):
            outputs.update(promotion_outputs(data, prefix))
            append_summary(summary, promotion_summary(command, data, code, prefix))
        elif command == "status" and isinstance(data, list):
            append_summary(summary, status_summary(data))
        elif command == "images" and isinstance(data, list):
            append_summary(summary, f"## promoter images\n\n{len(data)} image reference(s).\n\n")
    write_outputs(environ.get("GITHUB_OUTPUT"), outputs)
    return code


if __name__ == "__main__":
    sys.exit(run(os.environ))

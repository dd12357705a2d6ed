"""A small emulation of the GitHub Actions runner for one composite action, enough to run action.yml for real.

What it reproduces from the runner (actions/runner, Handlers/CompositeActionHandler.cs and
ActionRunner.cs), because the action's correctness depends on it:
- the `inputs` context: the step's `with:` keys as given (unexpected ones too, with a warning),
  then every declared input's default; there are NO `INPUT_*` environment variables in a
  composite action's `run:` steps;
- `${{ }}` is substituted in `env:`, `with:`, `if:` and output values, never in `run:` scripts
  by this emulation's caller's choice (the action must pass inputs through env:);
- every `run:` step gets a fresh GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY
  file under RUNNER_TEMP, runs as `bash --noprofile --norc -eo pipefail FILE` in GITHUB_WORKSPACE,
  with the job's environment (GITHUB_*, RUNNER_*, CI, PATH, HOME) plus the step's env;
- `::add-mask::` and annotation workflow commands on stdout.
The two `uses:` steps the action has are emulated by what they do: actions/setup-python with
update-environment: false hands out an interpreter of the requested version and changes nothing;
actions/cache restores a directory saved under the same key by an earlier job and saves it after
the job when it missed. Expressions cover what action metadata commonly uses; anything else
raises, so the action cannot silently rely on a feature the emulation lacks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# ---- expressions ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().\[\],*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read expression at {text[pos:]!r}")
        kind = m.lastgroup
        assert kind
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _truthy(v: Any) -> bool:
    return not (v is None or v is False or v == "" or v == 0)


def _to_string(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return "Object" if isinstance(v, dict) else "Array"
    return str(v)


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is not type(b):

        def num(x: Any) -> float:
            if x is None or x == "":
                return 0.0
            if isinstance(x, bool):
                return float(x)
            try:
                return float(x)
            except (TypeError, ValueError):
                return float("nan")

        return num(a) == num(b)
    return a == b


class _Parser:
    def __init__(self, text: str, contexts: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.contexts = contexts
        self.functions = functions

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"expected {value!r}, got {tok}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()}")
        return v

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            v = v if _truthy(v) else right
        return v

    def and_(self) -> Any:
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            v = right if _truthy(v) else v
        return v

    def cmp(self) -> Any:
        v = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            v = _eq(v, right) if op == "==" else not _eq(v, right)
        return v

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        v = self.primary()
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                name = self.take()[1]
                v = _index(v, name)
            else:
                key = self.or_()
                self.take("]")
                v = _index(v, key)
        return v

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            return float(value)
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if value == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "name":
            low = value.lower()
            if self.peek() == ("op", "("):
                self.take()
                args = []
                while self.peek() != ("op", ")"):
                    args.append(self.or_())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                if low not in self.functions:
                    raise ExpressionError(f"function {value}() is not emulated")
                return self.functions[low](*args)
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if low not in self.contexts:
                raise ExpressionError(f"context {value!r} is not available here")
            return self.contexts[low]
        raise ExpressionError(f"unexpected {value!r}")


def _index(v: Any, key: Any) -> Any:
    if isinstance(v, dict):
        k = str(key).lower()
        return next((val for name, val in v.items() if name.lower() == k), None)
    if isinstance(v, list) and isinstance(key, float):
        i = int(key)
        return v[i] if 0 <= i < len(v) else None
    return None


def _format(fmt: str, *args: Any) -> str:
    return (
        re.sub(r"\{(\d+)\}", lambda m: _to_string(args[int(m.group(1))]), str(fmt))
        .replace("{{", "{")
        .replace("}}", "}")
    )


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tojson": lambda v: json.dumps(v, indent=2),
    "fromjson": lambda v: json.loads(v),
    "format": _format,
    "contains": lambda a, b: (
        (str(b).lower() in str(a).lower()) if isinstance(a, str) else any(_eq(x, b) for x in a or [])
    ),
    "startswith": lambda a, b: _to_string(a).lower().startswith(_to_string(b).lower()),
    "endswith": lambda a, b: _to_string(a).lower().endswith(_to_string(b).lower()),
    "join": lambda a, sep=",": sep.join(_to_string(x) for x in a) if isinstance(a, list) else _to_string(a),
    "success": lambda: True,
    "always": lambda: True,
    "failure": lambda: False,
    "cancelled": lambda: False,
}


def evaluate(expr: str, contexts: dict[str, Any]) -> Any:
    return _Parser(expr, contexts, FUNCTIONS).parse()


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def substitute(value: Any, contexts: dict[str, Any]) -> str:
    """A YAML value with `${{ }}` expressions: one whole expression keeps its type's string form."""
    text = _to_string(value) if not isinstance(value, str) else value
    return _TEMPLATE.sub(lambda m: _to_string(evaluate(m.group(1), contexts)), text)


# ---- the runner ----------------------------------------------------------------------------------


@dataclass
class Annotation:
    kind: str
    props: dict[str, str]
    message: str


@dataclass
class StepRecord:
    name: str
    returncode: int
    stdout: str
    stderr: str
    env: dict[str, str]
    outputs: dict[str, str]


@dataclass
class JobResult:
    success: bool
    outputs: dict[str, str]
    steps: list[StepRecord]
    summary: str
    annotations: list[Annotation]
    masks: list[str]
    warnings: list[str]
    env_changes: str  # whatever the action wrote to GITHUB_ENV / GITHUB_PATH (must stay empty)

    @property
    def log(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)


def _unescape(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_commands(stdout: str) -> tuple[list[Annotation], list[str]]:
    notes, masks = [], []
    for line in stdout.splitlines():
        m = re.match(r"^::(error|warning|notice|add-mask)(?: (.*?))?::(.*)$", line)
        if not m:
            continue
        kind, props, message = m.group(1), m.group(2) or "", m.group(3)
        if kind == "add-mask":
            masks.append(message)
            continue
        fields = dict(p.split("=", 1) for p in props.split(",") if "=" in p)
        notes.append(Annotation(kind, {k: _unescape(v) for k, v in fields.items()}, _unescape(message)))
    return notes, masks


def parse_file_commands(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT syntax: `name=value` lines and `name<<DELIM` … `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated {delim} block for output {name}")
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        elif line.strip():
            raise ValueError(f"invalid output line {line!r}")
        i += 1
    return out


@dataclass
class Runner:
    """One runner machine: a workspace, a RUNNER_TEMP cleaned per job, and an actions/cache store."""

    root: Path
    python_for: Callable[[str], tuple[str, str]]  # version spec -> (full version, interpreter path)
    base_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.temp = self.root / "_temp"  # the same path for every job, as on hosted runners
        self.cache_store = self.root / "_cache"
        self.cache_store.mkdir(parents=True, exist_ok=True)

    def run_action(
        self,
        action_dir: Path,
        workspace: Path,
        with_: dict[str, str],
        *,
        github: dict[str, Any] | None = None,
        job_env: dict[str, str] | None = None,
    ) -> JobResult:
        action = yaml.safe_load((action_dir / "action.yml").read_text())
        assert action["runs"]["using"] == "composite"
        if self.temp.exists():
            shutil.rmtree(self.temp)
        self.temp.mkdir(parents=True)
        declared = {k.lower(): v for k, v in (action.get("inputs") or {}).items()}
        gh = {
            "workspace": str(workspace),
            "action_path": str(action_dir),
            "token": "ghs_jobtoken0000000000000000000000000000",
            "repository": "acme/gitops",
            "event_name": "push",
            "base_ref": "",
            "head_ref": "",
            "ref": "refs/heads/main",
            "sha": "0" * 40,
            "server_url": "https://github.com",
            "api_url": "https://api.github.com",
            "run_id": "1",
            "actor": "octocat",
            **(github or {}),
        }
        runner_ctx = {"temp": str(self.temp), "os": "Linux", "arch": "X64", "tool_cache": str(self.root / "_tool")}
        # The inputs context: what the step gave (unexpected keys included), then the defaults.
        warnings = []
        unexpected = [k for k in with_ if k.lower() not in declared]
        if unexpected:
            warnings.append(f"Unexpected input(s) {', '.join(repr(k) for k in unexpected)}")
        inputs: dict[str, Any] = dict(with_)
        lowered = {k.lower() for k in with_}
        for name, spec in declared.items():
            if spec.get("required") and name not in lowered:
                raise AssertionError(f"input {name} is required")
            if name not in lowered:
                inputs[name] = substitute(spec.get("default", ""), {"github": gh, "runner": runner_ctx})
        job_environment = {
            **self.base_env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_REPOSITORY": gh["repository"],
            "GITHUB_EVENT_NAME": gh["event_name"],
            "GITHUB_BASE_REF": gh["base_ref"],
            "GITHUB_HEAD_REF": gh["head_ref"],
            "GITHUB_REF": gh["ref"],
            "GITHUB_SHA": gh["sha"],
            "GITHUB_SERVER_URL": gh["server_url"],
            "GITHUB_API_URL": gh["api_url"],
            "GITHUB_RUN_ID": gh["run_id"],
            "GITHUB_ACTOR": gh["actor"],
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TOOL_CACHE": runner_ctx["tool_cache"],
            **(job_env or {}),
        }
        steps_ctx: dict[str, Any] = {}
        records: list[StepRecord] = []
        summary, env_changes = "", ""
        annotations: list[Annotation] = []
        masks: list[str] = []
        post: list[Callable[[], None]] = []
        success = True
        for i, step in enumerate(action["runs"]["steps"]):
            contexts = {
                "inputs": inputs,
                "github": gh,
                "runner": runner_ctx,
                "steps": steps_ctx,
                "env": job_environment,
            }
            if "if" in step and not _truthy(evaluate(str(step["if"]).replace("${{", "").replace("}}", ""), contexts)):
                continue
            sid = step.get("id") or f"__step{i}"
            env = {k: substitute(v, contexts) for k, v in (step.get("env") or {}).items()}
            if "uses" in step:
                with_values = {k: substitute(v, contexts) for k, v in (step.get("with") or {}).items()}
                outputs = self._uses(step["uses"], with_values, post)
                steps_ctx[sid] = {"outputs": outputs, "outcome": "success", "conclusion": "success"}
                records.append(StepRecord(step.get("name", step["uses"]), 0, "", "", env, outputs))
                continue
            assert step.get("shell") == "bash", "composite run steps must name their shell"
            files = {
                n: self.temp / "_runner_file_commands" / f"{n.lower()}_{uuid.uuid4().hex}"
                for n in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")
            }
            for f in files.values():
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text("")
            script = self.temp / f"{uuid.uuid4().hex}.sh"
            script.write_text(step["run"])  # the script as written: the runner substitutes nothing we rely on
            run_env = {**job_environment, **{k: str(v) for k, v in files.items()}, **env}
            assert not any(k.startswith("INPUT_") for k in run_env)
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workspace,
                env=run_env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            outputs = parse_file_commands(files["GITHUB_OUTPUT"].read_text())
            summary += files["GITHUB_STEP_SUMMARY"].read_text()
            env_changes += files["GITHUB_ENV"].read_text() + files["GITHUB_PATH"].read_text()
            notes, new_masks = parse_commands(proc.stdout)
            annotations += notes
            masks += new_masks
            outcome = "success" if proc.returncode == 0 else "failure"
            steps_ctx[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            records.append(
                StepRecord(step.get("name", "run"), proc.returncode, proc.stdout, proc.stderr, run_env, outputs)
            )
            if proc.returncode != 0:
                success = False
                break
        for hook in post:
            if success:
                hook()
        contexts = {"inputs": inputs, "github": gh, "runner": runner_ctx, "steps": steps_ctx}
        outputs = {
            name: substitute(spec.get("value", ""), contexts) for name, spec in (action.get("outputs") or {}).items()
        }
        return JobResult(success, outputs, records, summary, annotations, masks, warnings, env_changes)

    # -- the actions the composite action uses -------------------------------------------------

    def _uses(self, ref: str, with_: dict[str, str], post: list[Callable[[], None]]) -> dict[str, str]:
        name, _, version = ref.partition("@")
        if name == "actions/setup-python":
            assert version == "v6", f"setup-python {version}: the emulation knows v6"
            # update-environment: true would put this Python first on the job's PATH: the action must not.
            assert with_.get("update-environment") == "false", "setup-python must not change the job's environment"
            full, path = self.python_for(with_["python-version"])
            return {"python-version": full, "python-path": path}
        if name == "actions/cache":
            assert version == "v5", f"actions/cache {version}: the emulation knows v5"
            key = with_["key"]
            assert re.fullmatch(r"[A-Za-z0-9._-]+", key) and "--" not in key and not key.endswith("-"), (
                f"cache key looks unfilled: {key}"
            )
            paths = [Path(p) for p in with_["path"].split("\n") if p.strip()]
            stored = self.cache_store / key
            if stored.exists():
                for i, p in enumerate(paths):
                    # Hard links instead of a tar download: the same files, restored in no time.
                    shutil.copytree(stored / str(i), p, symlinks=True, copy_function=os.link)
                return {"cache-hit": "true"}

            def save() -> None:
                for i, p in enumerate(paths):
                    if p.exists():
                        shutil.copytree(p, stored / str(i), symlinks=True, copy_function=os.link)

            post.append(save)
            return {"cache-hit": "false"}
        raise AssertionError(f"the emulation does not know the action {ref}")

"""Policies run in child processes: no environment, a memory limit, a time limit per evaluation.

Policy folders come from the GitOps repository, so the author of a pull request controls them.
Each worker is a fresh Python process started with an empty environment (no token to read,
whatever the engine offers), that limits its own address space (RLIMIT_AS) before loading the
engine and arms a timer (SIGALRM, default action: the kernel ends the process) around each
evaluation. Before each rule it writes (input, rule) into a small shared file, so when a worker
dies the parent knows which rule of which file did it: that is one error finding on that input,
the rule is not evaluated again in this run, and a new worker carries on with the rest. Every later
input that rule applies to gets its own error saying it was not evaluated and why (never a silent
pass), so one bad rule costs a run one limit, not one per input, and still fails closed.

The engine itself offers no network, files or environment (regorus: `opa.runtime()` has no
`env`, `http.send` is refused at load), so the limits are what this module adds.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import gc
import json
import mmap
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from promoter.model.errors import ConfigError, ToolError, killed_by
from promoter.policy.policyset import PolicyError, PolicySet, Verdict, rule_key

_HEADER = struct.Struct("<Q")
_PROGRESS = struct.Struct("<qq")  # (input index, rule index) the worker is evaluating
CHUNK = 256  # inputs per message: bounds what is redone when a worker dies, and memory


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0  # per evaluation: one input against one policy set
    memory_mb: int = 2048  # the worker's address space, engine and Python included
    # Per policy set and run, all inputs together: the time limit bounds one evaluation, this bounds
    # their sum, so that a rule just under the limit on every input cannot stretch a run without end.
    # Inputs it leaves unevaluated are errors. Generous: the pack takes ~3 s CPU on 10,000 resources.
    budget: float = 900.0

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        out = cls()
        seconds, memory = env.get("PROMOTER_POLICY_TIMEOUT"), env.get("PROMOTER_POLICY_MEMORY_MB")
        budget = env.get("PROMOTER_POLICY_BUDGET")
        try:
            if seconds:
                out = dataclasses.replace(out, seconds=float(seconds))
            if memory:
                out = dataclasses.replace(out, memory_mb=int(memory))
            if budget:
                out = dataclasses.replace(out, budget=float(budget))
        except ValueError:
            raise ConfigError(
                f"PROMOTER_POLICY_TIMEOUT={seconds!r} / PROMOTER_POLICY_MEMORY_MB={memory!r} / "
                f"PROMOTER_POLICY_BUDGET={budget!r}: not a number"
            ) from None
        if out.seconds <= 0 or out.memory_mb < 256 or out.budget <= 0:
            raise ConfigError(
                "PROMOTER_POLICY_TIMEOUT and PROMOTER_POLICY_BUDGET must be > 0 and PROMOTER_POLICY_MEMORY_MB at least 256"
            )
        return out


@dataclass
class Item:
    """One input: its JSON text (shared with the cache key), the file it came from, and whether it is null."""

    text: str
    file: str | None = None
    null: bool = False
    data: int = 0  # which of the data documents it is evaluated with (one per environment)
    kind: str | None = None  # the input's `kind`, when it is an object that has one


def _send(stream: IO[bytes], doc: Any) -> None:
    body = json.dumps(doc, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _send_raw(stream: IO[bytes], body: bytes) -> None:
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _receive_raw(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return json.loads(body)


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


# How long a worker that did not say "ready" is given to end before it is stopped.
_DEATH_WAIT = 10.0


class _Worker:
    """One child process with the policy set loaded. It starts loading at once; `ready` waits for it."""

    def __init__(self, policy_set: PolicySet, data: Sequence[dict[str, Any]], limits: Limits) -> None:
        self.policy_set = policy_set
        # Where the worker writes which (input, rule) it is at: read when it dies.
        fd, self.progress_path = tempfile.mkstemp(prefix="promoter-policy-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * _PROGRESS.size)
        self._ready = False
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONPATH": _package_root(), "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            # `-c`, not `-m promoter.policy.sandbox`: runpy warns on stderr that the package already
            # imported the module, and that warning became the "last words" of a worker that died.
            [
                sys.executable,
                "-s",
                "-c",
                "import sys; from promoter.policy.sandbox import worker_main; sys.exit(worker_main())",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with contextlib.suppress(OSError):  # it died at once: `ready` says why
            _send(
                self.proc.stdin,
                {
                    "name": policy_set.name,
                    "modules": [[m.file, m.source] for m in policy_set.modules],
                    "namespaces": policy_set.namespaces,
                    "kinds": {k: sorted(v) for k, v in policy_set.kinds.items()},
                    "trusted": policy_set.trusted,
                    "verify": policy_set.verify,
                    "data": list(data),
                    "seconds": limits.seconds,
                    "memory_mb": limits.memory_mb,
                    "budget": limits.budget,
                    "progress": self.progress_path,
                },
            )

    def ready(self) -> None:
        """Wait until the policy set is loaded; ConfigError (it does not load) or ToolError (it died)."""
        if self._ready:
            return
        assert self.proc.stdout is not None
        ready = _receive(self.proc.stdout)
        if not isinstance(ready, dict) or not ready.get("ready"):
            message = ready.get("error") if isinstance(ready, dict) else None
            if message:
                self.close()
                raise ConfigError(message)
            # It died while loading: wait for it, so that a signal (the out-of-memory killer on a
            # small runner) is named instead of "exit status None". One that still runs after saying
            # something else than "ready" is not waited for without end: it is stopped.
            try:
                self.proc.wait(timeout=_DEATH_WAIT)
            except subprocess.TimeoutExpired:
                self.close()
                raise ToolError(
                    f"{self.policy_set.name}: the policy worker did not start: it answered something else than ready"
                ) from None
            killed = killed_by(self.proc.returncode)
            detail = f"it was {killed}" if killed else self._stderr()
            self.close()
            raise ToolError(f"{self.policy_set.name}: the policy worker did not start: {detail}")
        self._ready = True

    def _stderr(self) -> str:
        """The worker's last words (Rust's "note: run with RUST_BACKTRACE" line left out)."""
        try:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        except (OSError, ValueError):
            err = ""
        lines = [ln.strip() for ln in err.splitlines() if ln.strip() and not ln.startswith("note: run with")]
        alloc = [ln for ln in lines if "memory allocation" in ln or "MemoryError" in ln]
        return (alloc or lines or [f"exit status {self.proc.returncode}"])[-1]

    def evaluate(self, items: Sequence[Item], skip: set[str], deadline: float) -> list[dict[str, Any]] | None:
        """Verdicts (as JSON) in order, or None when the worker died on the way; inputs reached
        after `deadline` (time.monotonic, the same clock in every process) are not evaluated."""
        self.ready()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        # One line of options, then per input a line of [file, null, data, kind] and its JSON text:
        # the worker hands that text to the engine as it is, never building Python objects of it.
        parts = [json.dumps({"skip": sorted(skip), "count": len(items), "deadline": deadline}).encode()]
        for it in items:
            parts.append(json.dumps([it.file, it.null, it.data, it.kind]).encode())
            parts.append(it.text.encode())
        parts = [b"\n".join(parts)]
        try:
            _send_raw(self.proc.stdin, b"".join(parts))
            answer = _receive(self.proc.stdout)
        except (BrokenPipeError, OSError):
            answer = None
        if not isinstance(answer, list):
            self.proc.wait()
            return None
        return answer

    def death(self) -> tuple[str, str]:
        """(what, detail) of a worker that died: "time" or "memory" or "crash"."""
        self.proc.wait()
        detail = self._stderr()
        rc = self.proc.returncode
        if rc == -signal.SIGALRM:
            return "time", detail
        if "memory allocation" in detail or "MemoryError" in detail:
            return "memory", detail
        killed = killed_by(rc) if rc is not None else None
        if killed:  # killed from outside: the signal is the news, not its stderr
            return "crash", f"the policy worker was {killed}"
        return "crash", detail

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.progress_path)


# Workers started ahead of their first input (while the caller still renders): taken by `evaluate`
# when it needs a worker for the same policy set, data and limits; the rest are closed by `discard`.
_STARTED: dict[tuple[str, str, Limits], list[_Worker]] = {}
_STARTED_LOCK = threading.Lock()


def _started_key(policy_set: PolicySet, data: Sequence[dict[str, Any]], limits: Limits) -> tuple[str, str, Limits]:
    return (policy_set.digest, json.dumps(list(data), sort_keys=True, default=str), limits)


def prestart(
    policy_set: PolicySet, data: Sequence[dict[str, Any]], workers: int = 1, limits: Limits | None = None
) -> None:
    """Start `workers` workers for this set and data now, so that loading the engine and the policies
    overlaps whatever the caller does before it has inputs (rendering)."""
    limits = limits or Limits.from_environ()
    key = _started_key(policy_set, data, limits)
    with _STARTED_LOCK:
        waiting = _STARTED.setdefault(key, [])
        while len(waiting) < workers:
            waiting.append(_Worker(policy_set, data, limits))


def discard() -> None:
    """Close every worker started ahead and not taken."""
    with _STARTED_LOCK:
        workers = [w for ws in _STARTED.values() for w in ws]
        _STARTED.clear()
    for w in workers:
        w.close()


atexit.register(discard)


def _take(policy_set: PolicySet, data: Sequence[dict[str, Any]], limits: Limits) -> _Worker:
    with _STARTED_LOCK:
        waiting = _STARTED.get(_started_key(policy_set, data, limits))
        if waiting:
            return waiting.pop()
    return _Worker(policy_set, data, limits)


def evaluate(
    policy_set: PolicySet,
    data: dict[str, Any] | Sequence[dict[str, Any]],
    items: Sequence[Item],
    *,
    jobs: int = 1,
    limits: Limits | None = None,
) -> list[Verdict]:
    """Every input's verdict, in order, evaluated in `jobs` sandboxed workers; `data` is one
    document, or a list that items pick from by index (one worker serves every environment)."""
    datas = [data] if isinstance(data, dict) else list(data)
    if not items:
        return []
    limits = limits or Limits.from_environ()
    jobs = max(1, min(jobs, len(items)))
    deadline = time.monotonic() + limits.budget
    # A rule stopped by a limit is not evaluated again in this run (so one slow or hungry rule costs
    # the run one limit, not one per input): rule key -> why, shared by the workers. Every later
    # input it applies to gets its own error saying so: never a silent pass.
    disabled: dict[str, str] = {}
    lock = threading.Lock()
    out: list[Verdict | None] = [None] * len(items)
    failures: list[BaseException] = []
    share = -(-len(items) // jobs)

    def run(start: int, stop: int) -> None:
        try:
            _run_range(policy_set, datas, items, start, stop, limits, deadline, disabled, lock, out)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failures.append(exc)

    if jobs == 1:
        run(0, len(items))
    else:
        threads = [
            threading.Thread(target=run, args=(s, min(s + share, len(items)))) for s in range(0, len(items), share)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if failures:
        raise failures[0]
    return [v if v is not None else Verdict() for v in out]


def _run_range(
    policy_set: PolicySet,
    data: Sequence[dict[str, Any]],
    items: Sequence[Item],
    start: int,
    stop: int,
    limits: Limits,
    deadline: float,
    disabled: dict[str, str],
    lock: threading.Lock,
    out: list[Verdict | None],
) -> None:
    worker: _Worker | None = None
    pos = start
    pending: dict[int, list[PolicyError]] = {}
    try:
        while pos < stop:
            if worker is None:
                worker = _take(policy_set, data, limits)
            end = min(pos + CHUNK, stop)
            with lock:
                skip = set(disabled)
                notes = dict(disabled)
            answer = worker.evaluate(items[pos:end], skip, deadline)
            if answer is not None:
                for k, doc in enumerate(answer):
                    verdict = Verdict.from_json(doc)
                    own = pending.pop(pos + k, [])
                    verdict.errors = own + _not_evaluated(policy_set, items[pos + k], skip, own, notes) + verdict.errors
                    out[pos + k] = verdict
                pos = end
                continue
            what, detail = worker.death()
            with open(worker.progress_path, "rb") as fh:
                index, rule_index = _PROGRESS.unpack(fh.read(_PROGRESS.size))
            worker.close()
            worker = None
            failed = pos + index
            # Answers come per message: the inputs before the failed one are evaluated again.
            rules = policy_set.rules_for(items[failed].kind)
            rule = rules[rule_index] if 0 <= rule_index < len(rules) else None
            error = _limit_error(policy_set, rule, what, detail, limits)
            with lock:
                if rule is not None:
                    disabled.setdefault(rule_key(rule), _stopped_note(rule, what, limits, items[failed].file))
            if rule is None:
                # Not inside a rule (loading the input, or the worker itself): this input only.
                out[failed] = Verdict(errors=[error])
                pos = failed + 1
                continue
            pending.setdefault(failed, []).append(error)
    finally:
        if worker is not None:
            worker.close()


def budget_note(budget: float) -> str:
    """Why an input was not evaluated at all: the set's time for the whole run was spent."""
    return (
        f"not evaluated: the policies used up this run's time budget ({budget:g} s for all inputs together) "
        "before this input; it counts as failed: raise PROMOTER_POLICY_BUDGET or make the rules faster"
    )


def _stopped_note(rule: Any, what: str, limits: Limits, file: str | None) -> str:
    """Why a rule is not evaluated on the inputs after the one that broke a limit."""
    on = f"on {file}" if file else "on another input"
    if what == "time":
        cause, fix = (
            f"it took longer than {limits.seconds:g} s {on}",
            "raise PROMOTER_POLICY_TIMEOUT or make the rule faster",
        )
    elif what == "memory":
        cause, fix = (
            f"it needed more than {limits.memory_mb} MB {on}",
            "raise PROMOTER_POLICY_MEMORY_MB or make the rule leaner",
        )
    else:
        cause, fix = f"it crashed the policy engine {on}", "fix the rule"
    return (
        f"rule {rule.namespace}.{rule.name} ({', '.join(rule.files[:3])}) was not evaluated on this input: {cause} earlier "
        f"in this run and was stopped there (a rule costs a run at most one limit); this input counts as failed until "
        f"the rule runs: {fix}"
    )


def _not_evaluated(
    policy_set: PolicySet, item: Item, skip: set[str], own: list[PolicyError], notes: dict[str, str]
) -> list[PolicyError]:
    """An error per rule that applies to this input and was skipped (stopped by a limit on another input)."""
    if not skip:
        return []
    reported = {(e.namespace, e.rule) for e in own}
    return [
        PolicyError(r.namespace, r.name, notes[rule_key(r)], list(r.files))
        for r in policy_set.rules_for(item.kind)
        if rule_key(r) in skip and (r.namespace, r.name) not in reported
    ]


def _limit_error(policy_set: PolicySet, rule: Any, what: str, detail: str, limits: Limits) -> PolicyError:
    files = list(rule.files) if rule is not None else [m.file for m in policy_set.modules]
    where = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
    name = f"{rule.namespace}.{rule.name}" if rule is not None else policy_set.name
    if what == "time":
        text = f"rule {name} ({where}) took longer than {limits.seconds:g} s on this input; it was stopped and is not evaluated again in this run (every other input it applies to reports so): raise PROMOTER_POLICY_TIMEOUT or make the rule faster"
    elif what == "memory":
        text = f"rule {name} ({where}) needed more than {limits.memory_mb} MB; it was stopped and is not evaluated again in this run (every other input it applies to reports so): raise PROMOTER_POLICY_MEMORY_MB or make the rule leaner"
    else:
        text = f"rule {name} ({where}) crashed the policy engine ({detail}); it is not evaluated again in this run (every other input it applies to reports so)"
    return PolicyError(rule.namespace if rule is not None else "", rule.name if rule is not None else None, text, files)


# --- the worker's side ---------------------------------------------------------------------------


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):  # pragma: no cover - a platform without these limits
        pass


def worker_main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing the policies print may reach the pipe the answers travel on.
    sys.stdout = sys.stderr
    spec = _receive(stdin)
    if not isinstance(spec, dict):
        return 2
    _limit_memory(int(spec["memory_mb"]))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the timer ends the process: no handler needed
    from promoter.policy.source import RegoModule

    try:
        policy_set = PolicySet(
            spec["name"],
            [RegoModule(f, s) for f, s in spec["modules"]],
            spec["namespaces"],
            trusted=bool(spec["trusted"]),
            kinds={k: frozenset(v) for k, v in spec["kinds"].items()},
            verify=bool(spec["verify"]),
        )
        evaluators = [policy_set.evaluator(d) for d in spec["data"]]
    except ConfigError as exc:
        _send(stdout, {"error": str(exc)})
        return 2
    seconds = float(spec["seconds"])
    budget_seconds = float(spec["budget"])
    with open(spec["progress"], "r+b") as fh:
        progress = mmap.mmap(fh.fileno(), _PROGRESS.size)
    current = [0]

    def on_rule(index: int) -> None:
        _PROGRESS.pack_into(progress, 0, current[0], index)

    for evaluator in evaluators:
        evaluator.on_rule = on_rule
    # Nothing made from here on forms reference cycles worth a collector's pass over everything loaded.
    gc.freeze()
    gc.disable()
    _send(stdout, {"ready": True})
    while True:
        message = _receive_raw(stdin)
        if message is None:
            return 0
        lines = message.split(b"\n")
        options = json.loads(lines[0])
        skip = frozenset(options["skip"])
        deadline = float(options["deadline"])
        answers = []
        for index in range(options["count"]):
            file, null, data, kind = json.loads(lines[1 + 2 * index])
            if time.monotonic() > deadline:
                answers.append(Verdict(errors=[PolicyError("", None, budget_note(budget_seconds))]).to_json())
                continue
            current[0] = index
            _PROGRESS.pack_into(progress, 0, index, -1)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            verdict = evaluators[data].evaluate_text(
                lines[2 + 2 * index].decode(), kind, file, skip=skip, undefined_input=null
            )
            signal.setitimer(signal.ITIMER_REAL, 0)
            answers.append(verdict.to_json())
        _send(stdout, answers)


if __name__ == "__main__":
    sys.exit(worker_main())

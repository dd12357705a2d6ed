"""healthy: the digest ran healthy in the previous environment, as the commit statuses its controller wrote say.

Argo CD (notifications) and Flux (notification-controller) write a commit status on the commit
they applied; CI jobs write statuses and check runs. This gate reads them from the forge, never
from a cluster: the commit that put the digest into the previous environment on the base branch,
and the few commits after it while the digest still ran there (a controller that applied two
merges at once writes on the later one). For each named context the newest word counts, and
every one must be success. With --wait the gate polls until they are, one fails, or its timeout
ends. Without forge access it fails closed, saying how to give it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from promoter.gates.context import GateContext, iso, short_sha, when
from promoter.gates.durations import format_duration, parse_duration
from promoter.gates.registry import ConfigPlace, Outcome, needs_previous, register
from promoter.gates.statuses import CommitCheck
from promoter.history.timeline import ImageState, label
from promoter.model.errors import PromoterError

NAME = "healthy"
DEFAULT_TIMEOUT = "30m"
DEFAULT_INTERVAL = "30s"
MAX_TIMEOUT = timedelta(hours=6)
FOLLOWING = 4  # commits after the one that put the digest there that are read too
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KNOWN = ("app", "env", "previous_env")
_RANK = {"success": 0, "pending": 1, "failure": 2}


@dataclass(frozen=True)
class Options:
    contexts: list[str]
    timeout: timedelta
    interval: timedelta
    timeout_text: str


def _options(value: Any) -> Options:
    timeout = str(value.get("timeout", DEFAULT_TIMEOUT))
    return Options(
        contexts=[str(c) for c in value["contexts"]],
        timeout=parse_duration(timeout),
        interval=parse_duration(str(value.get("interval", DEFAULT_INTERVAL))),
        timeout_text=timeout,
    )


def _validate(value: Any, place: ConfigPlace) -> None:
    if not isinstance(value, dict):
        raise place.error("expected a mapping: {contexts: [argocd/{app}-{previous_env}], timeout: 30m}")
    contexts = value.get("contexts")
    if not isinstance(contexts, list) or not contexts:
        raise place.error(
            "list the status contexts or check runs that must be green, e.g. [argocd/{app}-stage]", "contexts"
        )
    for i, c in enumerate(contexts):
        if not isinstance(c, str) or not c.strip():
            raise place.error(f"{c!r}: a context is a non-empty string", "contexts", i)
        for name in _PLACEHOLDER.findall(c):
            if name not in _KNOWN:
                raise place.error(
                    f"{c!r}: unknown placeholder {{{name}}} (known: {', '.join('{' + k + '}' for k in _KNOWN)})",
                    "contexts",
                    i,
                )
    unknown = sorted(set(value) - {"contexts", "timeout", "interval"})
    if unknown:
        raise place.error(f"unknown key {unknown[0]!r} (known: contexts, timeout, interval)", unknown[0])
    for key, default in (("timeout", DEFAULT_TIMEOUT), ("interval", DEFAULT_INTERVAL)):
        raw = value.get(key, default)
        try:
            d = parse_duration(raw)
        except ValueError as exc:
            # The duration parser words its refusals for soak; here the same refusal is about waiting.
            text = str(exc).replace("a soak is a time to wait", "give a time").replace("positive soak", "positive time")
            raise place.error(text, key) from None
        if d > MAX_TIMEOUT:
            raise place.error(f"{raw!r} is longer than {format_duration(MAX_TIMEOUT)}", key)
    needs_previous(True, place)


def contexts_for(ctx: GateContext, options: Options) -> list[str]:
    prev = ctx.previous
    assert prev is not None
    values = {"app": ctx.app, "env": ctx.env.name, "previous_env": prev.name}
    return list(dict.fromkeys(_PLACEHOLDER.sub(lambda m: values[m.group(1)], c) for c in options.contexts))


def _candidates(ctx: GateContext, stint: ImageState) -> list[str]:
    """The commit that put the digest there, then the base branch's next commits while it still ran there."""
    from promoter.history.git import GitRepo

    assert stint.commit is not None
    after = GitRepo.open(ctx.repo).first_parent_after(stint.commit, stint.until_commit or ctx.base_ref, FOLLOWING + 1)
    if stint.until_commit is not None:
        after = [c for c in after if c != stint.until_commit]
    return [stint.commit, *after[:FOLLOWING]]


def _read(ctx: GateContext, commits: list[str], names: list[str]) -> dict[str, tuple[CommitCheck, str]]:
    """Per context, the newest commit's word (the worst, when a status and a check run share a name)."""
    found: dict[str, tuple[CommitCheck, str]] = {}
    for sha in reversed(commits):
        here: dict[str, CommitCheck] = {}
        for c in ctx.statuses.commit_checks(sha):
            if c.name in names and c.name not in found:
                old = here.get(c.name)
                if old is None or _RANK[c.state] > _RANK[old.state]:
                    here[c.name] = c
        found.update({n: (c, sha) for n, c in here.items()})
        if len(found) == len(names):
            break
    return found


@register(NAME, validate=_validate)
def healthy(ctx: GateContext, value: Any) -> Outcome:
    options = _options(value)
    prev = ctx.previous
    assert prev is not None  # validate refuses the gate on the first environment
    names = contexts_for(ctx, options)
    image = label(ctx.image.tag, ctx.image.digest)
    key = ctx.key(NAME)
    stints = ctx.stints(prev.name)
    if not stints:
        return Outcome(
            [
                ctx.finding(
                    NAME,
                    f"gate healthy: {image} has not run in {prev.name} on {ctx.base_ref}: no controller can have said it "
                    f"is healthy there ({', '.join(names)})",
                    f"promote it to {prev.name} first and let it deploy there; the gate is {key}",
                    {"previous_env": prev.name, "contexts": names, "commit": None},
                )
            ]
        )
    stint = stints[-1]
    commits = _candidates(ctx, stint)
    where = f"commit {short_sha(stint.commit)} ({when(stint.time)}), where it entered {prev.name}" + (
        f", and the {len(commits) - 1} after it" if len(commits) > 1 else ""
    )
    evidence: dict[str, Any] = {
        "previous_env": prev.name,
        "commit": stint.commit,
        "time": iso(stint.time),
        "commits_read": commits,
        "contexts": names,
        "forge": ctx.statuses.kind,
    }
    waiting = ctx.waiting
    deadline = waiting.until(options.timeout.total_seconds()) if waiting.enabled else None
    started = waiting.clock()
    polls = 0
    while True:
        polls += 1
        try:
            found = _read(ctx, commits, names)
        except PromoterError as exc:
            return Outcome(
                [
                    ctx.finding(
                        NAME,
                        f"gate healthy: cannot read the commit statuses of {where} in the forge: {exc}",
                        "the healthy gate reads commit statuses and check runs from the forge: give this job a forge "
                        "token (GITHUB_TOKEN with statuses and checks read, or GITLAB_TOKEN with read_api) and the "
                        f"repository (forge.repository or --forge-repo), or remove {key}",
                        {**evidence, "error": str(exc)},
                    )
                ]
            )
        failing = {n: f for n, f in found.items() if f[0].state == "failure"}
        missing = [n for n in names if n not in found]
        pending = {n: f for n, f in found.items() if f[0].state == "pending"}
        evidence["states"] = {
            n: {"state": c.state, "word": c.raw, "kind": c.kind, "commit": sha} for n, (c, sha) in found.items()
        }
        evidence["missing"] = missing
        if not failing and not missing and not pending:
            waited = (
                f" after waiting {format_duration(timedelta(seconds=waiting.clock() - started))}" if polls > 1 else ""
            )
            return Outcome(
                note=f"{', '.join(names)}: success on {short_sha(found[names[0]][1])}{waited}",
                details={"healthy": evidence["states"]},
            )
        now = waiting.clock()
        if failing or deadline is None or now >= deadline:
            break
        waiting.sleep(max(0.0, min(options.interval.total_seconds(), deadline - now)))
    parts = []
    for n, (c, sha) in sorted(failing.items()):
        parts.append(f"{n} is {c.raw} on {short_sha(sha)}" + (f" ({c.description})" if c.description else ""))
    for n, (c, sha) in sorted(pending.items()):
        parts.append(f"{n} is still {c.raw} on {short_sha(sha)}")
    if missing:
        parts.append(f"no status or check run named {', '.join(missing)}")
    if deadline is not None:
        evidence["waited"] = format_duration(timedelta(seconds=waiting.clock() - started))
        waited = f" (waited {evidence['waited']}, timeout {options.timeout_text})" if not failing else ""
    else:
        waited = ""
    msg = f"gate healthy: {image} in {prev.name} is not known healthy: {'; '.join(parts)}; read on {where}{waited}"
    if failing:
        how = (
            f"{prev.name} reports it unhealthy: fix it there (or promote a build that is healthy) and run again; "
            f"the gate is {key}"
        )
    else:
        how = (
            f"the controller that deploys {prev.name} writes these when the sync is healthy (docs/gates.md: Argo CD "
            f"notifications, Flux Alert); run again once it has, or add --wait to poll up to {options.timeout_text}"
        )
    return Outcome([ctx.finding(NAME, msg, how, evidence)])

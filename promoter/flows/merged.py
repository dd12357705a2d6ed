"""Merged: after a promotion merges, carry exactly what it promoted to the next environment (`promote --next`).

The merge commit (a merge, a squashed commit or the tip of a rebase on GitHub; a merge commit,
with or without squash, on GitLab) is matched to its pull request through the forge, and the
request's hidden marker says which apps it carried into which environment. Git has the last
word: an app counts only if the environment runs the marker's image at that commit. Without a
pull request (no forge access, a direct push, a hand-written change) the commit's diff against
its first parent says what moved. Each app then goes to the environment after the one it
reached, behind that environment's gates; what a gate blocks is reported (exit 3) and, with
--pr, commented on the merged pull request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.config.model import Config
from promoter.flows.train import Candidate, TrainResult, promote_many
from promoter.history.git import GitRepo, run_git
from promoter.history.promotions import Promotion, promotions_between
from promoter.history.timeline import current_image, label
from promoter.model.commandline import Invocation, command_line, workspace_options
from promoter.model.errors import EXIT_OK, UsageError
from promoter.model.image import ImageRef
from promoter.publish.flags import PrFlags

if TYPE_CHECKING:
    from promoter.flows.forgeaccess import ForgeAccess
    from promoter.publish.forge.base import PullInfo
    from promoter.publish.pullrequest import Provenance


@dataclass
class Merge:
    """What one commit on the base branch promoted, and how promoter knows."""

    sha: str
    found_by: str  # marker | diff
    pull: PullInfo | None = None
    forge: str = "none"  # github | gitlab | none: how to name the request
    promotions: list[Promotion] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)  # app -> the build's, from the marker
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        word, sign = _words(self.forge)
        if self.pull is not None:
            return f"{word} {sign}{self.pull.number} ({self.pull.url}), merged as {self.sha[:12]}"
        return f"commit {self.sha[:12]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "found_by": self.found_by,
            "pull_request": (
                {"number": self.pull.number, "url": self.pull.url, "title": self.pull.title} if self.pull else None
            ),
            "promotions": [{"app": p.app, "env": p.env, "image": str(p.image)} for p in self.promotions],
            "notes": list(self.notes),
        }


@dataclass
class NextResult:
    merge: Merge
    train: TrainResult | None = None
    message: str | None = None  # nothing to do: why, in one line
    commented: bool = False

    @property
    def exit_code(self) -> int:
        return self.train.exit_code if self.train is not None else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"merged": self.merge.to_dict(), "message": self.message, "commented": self.commented}
        if self.train is not None:
            out.update(self.train.to_dict())
        else:
            out.update({"blocked": False, "promotions": [], "left_out": []})
        return out


def promote_next(
    repo: Path,
    config: Config,
    *,
    merged_sha: str | None,
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
    wait: bool = False,
) -> NextResult:
    """Open (or update) the next environment's pull request for what the merge `merged_sha` (default
    HEAD) promoted; exactly its images, behind the next environment's gates."""
    from promoter.flows.forgeaccess import ForgeAccess

    g = GitRepo.open(repo)
    sha = _commit(g, merged_sha or "HEAD")
    with ForgeAccess(config, pr, checkout=repo) as access:
        merge = find_merge(repo, config, g, sha, access)
        word = _words(access.kind)[0]
        if not merge.promotions:
            if merge.found_by == "marker":
                why = "; ".join(merge.notes) or f"its {word} names no app"
            else:
                why = "it changes no app's image in any environment"
            return NextResult(merge, message=f"{merge.describe()} promoted nothing: {why}")
        # Hints repeat the step for this merge: `promoter promote --next --merged-sha SHA …`.
        again = Invocation(
            "promote",
            (("--next", None), ("--merged-sha", sha), *workspace_options(repo, config.file), *_forge_options(pr)),
        )
        candidates, last = [], []
        for p in merge.promotions:
            nxt = config.next_env(p.env)
            if nxt is None:
                last.append(f"{p.app} reached {p.env}, the last environment")
                continue
            candidates.append(Candidate(p.app, nxt.name, p.image, p.env, merge.provenance.get(p.app), invocation=again))
        if not candidates:
            return NextResult(merge, message=f"{merge.describe()}: {'; '.join(last)}: nothing comes after it")
        train = promote_many(
            repo,
            config,
            candidates,
            pr=pr,
            override_freeze=override_freeze,
            dry_run=dry_run,
            wait=wait,
            statuses=access,
        )
        train.notes = merge.notes + [f"{x}: nothing to promote after it" for x in last] + train.notes
        result = NextResult(merge, train)
        if train.blocked and pr.enabled and not dry_run and merge.pull is not None:
            access.forge().comment(merge.pull, access.redact(_blocked_comment(merge, train, pr, word)))
            result.commented = True
    return result


def _commit(g: GitRepo, ref: str) -> str:
    proc = run_git(g.path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise UsageError(
            f"--merged-sha {ref}: no such commit in {g.root}",
            hint="the checkout must hold the merge: fetch it (actions/checkout with fetch-depth: 0, GIT_DEPTH: 0)",
        )
    return proc.stdout.strip()


def _words(kind: str) -> tuple[str, str]:
    return ("merge request", "!") if kind == "gitlab" else ("pull request", "#")


def find_merge(repo: Path, config: Config, g: GitRepo, sha: str, access: ForgeAccess) -> Merge:
    """The promotions commit `sha` made: from its pull request's marker, else from its diff."""
    from promoter.publish.pullrequest import marker_apps, parse_marker

    parents = run_git(g.path, "rev-list", "--parents", "-n", "1", sha).stdout.split()[1:]
    if not parents:
        if run_git(g.path, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
            # A shallow clone cuts the merge off from its parent: what it changed cannot be read.
            raise UsageError(
                f"the checkout is shallow: commit {sha[:12]}'s parent is not in it, so what the merge changed "
                "cannot be read",
                hint='fetch the history: actions/checkout with fetch-depth: 0, GIT_DEPTH: "0" in GitLab, '
                "or `git fetch --unshallow`",
            )
        return Merge(sha, "diff", forge=access.kind, notes=["it is the first commit of the repository"])
    moved = promotions_between(repo, config, parents[0], sha)
    pull = None
    if access.available:
        base = access.base_branch or "main"
        pull = access.forge().merged_pull(sha, base)
    marker = parse_marker(pull.body) if pull is not None else None
    if pull is None or marker is None:
        merge = Merge(sha, "diff", pull=pull, promotions=moved.promotions, forge=access.kind)
        if pull is not None:
            merge.notes.append(f"the merged pull request {pull.url} carries no promoter marker: read from the diff")
        elif not access.available:
            merge.notes.append(f"no forge access ({access.problem}): read from the diff against its first parent")
        merge.notes += [f"cannot read {app} in {env}: {why}" for app, env, why in moved.unreadable]
        return merge
    env = str(marker.get("env") or "")
    merge = Merge(sha, "marker", pull=pull, forge=access.kind)
    for a in marker_apps(marker):
        if a.rollback:
            # A rollback answers trouble in that environment; carrying it on is a decision for a person.
            merge.notes.append(
                f"{a.app}: rolled back in {env}; a rollback is not carried further (promoter rollback "
                f"--app {a.app} --env ENV rolls back another environment)"
            )
            continue
        try:
            config.env(env)
            config.app(a.app)
            image = ImageRef.parse(a.image)
            state = current_image(repo, config, a.app, env, sha)
        except UsageError as exc:
            merge.notes.append(f"{a.app} in {env!r} (from the marker): {exc}")
            continue
        runs = state is not None and any(p.runs(image) for p in state.pins)
        if runs:
            merge.promotions.append(Promotion(a.app, env, image))
            if not a.provenance.empty:
                merge.provenance[a.app] = a.provenance
            continue
        # The branch changed after promoter's last write (a reviewer's commit): Git has the last word.
        instead = [p for p in moved.promotions if p.app == a.app and p.env == env]
        if instead:
            merge.promotions.extend(instead)
            merge.notes.append(
                f"{a.app}: the {_words(access.kind)[0]} said {a.image}, the merge put "
                f"{', '.join(label(p.image.tag, p.image.digest) for p in instead)} in {env}: promoting what {env} runs"
            )
        else:
            now = state.label() if state is not None else "no image"
            merge.notes.append(f"{a.app}: {env} runs {now} at {sha[:12]}, not {a.image}: not promoted further")
    return merge


def _forge_options(pr: PrFlags) -> list[tuple[str, str | None]]:
    args = pr.forge_args()
    return [(args[i], args[i + 1]) for i in range(0, len(args), 2)]


def _blocked_comment(merge: Merge, train: TrainResult, pr: PrFlags, word: str) -> str:
    lines = [f"⛔ **promoter could not take the next step** for what this {word} promoted:", ""]
    for s in train.blocked:
        c = s.candidate
        why, how = s.reasons()
        lines.append(f"- **{c.app}** `{label(c.image.tag, c.image.digest)}` → `{c.env}`:")
        lines += [f"  - {w}" for w in why]
        lines += [f"  - how to proceed: {h}" for h in how]
    retry = command_line(
        ["promote"], [("--next", None), ("--merged-sha", merge.sha), ("--pr", None), *_forge_options(pr)]
    )
    lines += [
        "",
        "When that is settled, run the next step again (the scheduled pipeline does), or by hand:",
        "",
        "```sh",
        retry,
        "```",
    ]
    return "\n".join(lines) + "\n"

"""The promotion pull request's words: title, commit message, the apps it carries and the hidden marker.

The description itself is composed in `publish.description` from what the branch holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promoter.publish.forge.base import BranchCommit

MARKER_PREFIX = "<!-- promoter:"
_MARKER_RE = re.compile(r"<!-- promoter:(\{.*?\}) -->", re.DOTALL)
COMMIT_TRAILER = "Promoted-by: promoter"
MARKER_VERSION = 2
ROLLBACK_LABEL = "rollback"
CHAIN_MAX = 20  # images one PR remembers per app: a long-lived train stays readable


@dataclass
class Provenance:
    """Where the image came from: the build's repository, commit, CI run and who started it."""

    source_repo: str | None = None
    commit: str | None = None
    run_url: str | None = None
    actor: str | None = None
    server: str | None = None  # web root of the build's forge (https://github.com), for links
    kind: str | None = None  # github | gitlab: how that forge spells commit links

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Provenance:
        """From GitHub Actions (GITHUB_*) or GitLab CI (CI_*) variables; empty elsewhere."""
        if environ.get("GITHUB_ACTIONS") or environ.get("GITHUB_RUN_ID"):
            server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repo = environ.get("GITHUB_REPOSITORY")
            run = environ.get("GITHUB_RUN_ID")
            return cls(
                source_repo=repo,
                commit=environ.get("GITHUB_SHA"),
                run_url=f"{server}/{repo}/actions/runs/{run}" if repo and run else None,
                actor=environ.get("GITHUB_TRIGGERING_ACTOR") or environ.get("GITHUB_ACTOR"),
                server=server,
                kind="github",
            )
        if environ.get("GITLAB_CI") or environ.get("CI_PIPELINE_URL"):
            return cls(
                source_repo=environ.get("CI_PROJECT_PATH"),
                commit=environ.get("CI_COMMIT_SHA"),
                run_url=environ.get("CI_JOB_URL") or environ.get("CI_PIPELINE_URL"),
                actor=environ.get("GITLAB_USER_LOGIN"),
                server=(environ.get("CI_SERVER_URL") or "").rstrip("/") or None,
                kind="gitlab",
            )
        return cls()

    def merged(self, **flags: str | None) -> Provenance:
        """Flags given on the command line win over what CI says."""
        keys = ("source_repo", "commit", "run_url", "actor", "server", "kind")
        return Provenance(**{k: flags.get(k) or getattr(self, k) for k in keys})

    def to_dict(self) -> dict[str, str | None]:
        return {
            "source_repo": self.source_repo,
            "commit": self.commit,
            "run_url": self.run_url,
            "actor": self.actor,
            "server": self.server,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Provenance:
        if not isinstance(data, Mapping):
            return cls()
        keys = ("source_repo", "commit", "run_url", "actor", "server", "kind")
        return cls(**{k: (str(data[k]) if data.get(k) else None) for k in keys})

    @property
    def empty(self) -> bool:
        return not (self.source_repo or self.commit or self.run_url or self.actor)

    def repo_url(self, fallback_server: str | None = None) -> str | None:
        if not self.source_repo:
            return None
        if re.match(r"^https?://", self.source_repo):
            return self.source_repo.rstrip("/")
        server = self.server or fallback_server
        return f"{server.rstrip('/')}/{self.source_repo}" if server else None

    def commit_url(self, fallback_server: str | None = None, fallback_kind: str | None = None) -> str | None:
        repo = self.repo_url(fallback_server)
        if not repo or not self.commit or not re.fullmatch(r"[0-9a-fA-F]{7,64}", self.commit):
            return None
        dash = "/-" if (self.kind or fallback_kind) == "gitlab" else ""
        return f"{repo}{dash}/commit/{self.commit}"


@dataclass
class PromotedApp:
    """One app this pull request carries to the environment."""

    app: str
    image: str  # the reference being promoted, as given (registry/path[:tag][@digest])
    tag: str | None = None
    digest: str | None = None
    previous: str | None = None  # what the environment ran before: the rollback target
    chain: list[str] = field(default_factory=list)  # images this PR carried for the app before, oldest first
    provenance: Provenance = field(default_factory=Provenance)
    rollback: bool = False

    def to_marker(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "app": self.app,
            "image": self.image,
            "digest": self.digest,
            "tag": self.tag,
            "from": self.previous,
        }
        if self.chain:
            data["chain"] = list(self.chain)
        if not self.provenance.empty:
            data["provenance"] = {k: v for k, v in self.provenance.to_dict().items() if v}
        if self.rollback:
            data["rollback"] = True
        return data

    @classmethod
    def from_marker(cls, data: Mapping[str, Any]) -> PromotedApp:
        chain = data.get("chain")
        return cls(
            app=str(data.get("app", "")),
            image=str(data.get("image", "")),
            tag=data.get("tag"),
            digest=data.get("digest"),
            previous=data.get("from"),
            chain=[str(c) for c in chain] if isinstance(chain, list) else [],
            provenance=Provenance.from_dict(data.get("provenance")),
            rollback=bool(data.get("rollback")),
        )

    def same_image(self, other: PromotedApp) -> bool:
        """Same app and same image content: the digest decides when there is one, else the tag."""
        if self.app != other.app:
            return False
        if self.digest or other.digest:
            return self.digest == other.digest and (self.tag or None) == (other.tag or None)
        return self.image == other.image

    def carried_on(self, earlier: PromotedApp | None) -> PromotedApp:
        """This app as the PR now holds it, remembering what `earlier` (the PR's previous state) carried."""
        if earlier is None:
            return self
        chain = list(earlier.chain)
        if not self.same_image(earlier):
            chain.append(earlier.image)
        self.chain = chain[-CHAIN_MAX:]
        if self.provenance.empty and self.same_image(earlier):
            self.provenance = earlier.provenance  # the same build described again; another image is another build
        return self


# ---- marker ---------------------------------------------------------------------------------
def render_marker(
    env: str,
    apps: list[PromotedApp],
    head: str | None,
    *,
    pure: bool = True,
    draft_by_promoter: bool = False,
) -> str:
    """The hidden comment a later run reads back.

    `head` is the commit promoter last wrote (or described); `pure` says every commit between the
    base and that head is promoter's, which is what lets a later run move the branch back onto the
    base. Both are bound to the head's sha: a commit anyone adds changes the head, and the next run
    then looks at the commits themselves.
    """
    data: dict[str, Any] = {
        "v": MARKER_VERSION,
        "env": env,
        "apps": [a.to_marker() for a in apps],
        "head": head,
        "pure": pure,
    }
    if draft_by_promoter:
        data["draft_by_promoter"] = True
    if len(apps) == 1:
        data.update({k: v for k, v in apps[0].to_marker().items() if k in ("app", "image", "digest", "tag", "from")})
    # "-->" would end the comment early; it cannot occur outside JSON strings, and inside one
    # the escaped form decodes to the same text.
    text = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("-->", "--\\u003e")
    return f"{MARKER_PREFIX}{text} -->"


def parse_marker(body: str | None) -> dict[str, Any] | None:
    """The marker a promoter-opened PR carries, or None (not ours, or edited beyond recognition)."""
    if not body:
        return None
    found = _MARKER_RE.findall(body)
    for raw in reversed(found):  # the last one wins: the body ends with it
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("apps"), list):
            return data
    return None


def marker_apps(marker: Mapping[str, Any] | None) -> list[PromotedApp]:
    if not marker:
        return []
    return [PromotedApp.from_marker(a) for a in marker.get("apps", []) if isinstance(a, dict)]


# ---- title and commit message ------------------------------------------------------------
def title_digest(digest: str | None) -> str | None:
    if not digest:
        return None
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:6]}…"


def short_digest(digest: str | None) -> str | None:
    """`sha256:3f2a9c1d5be4` (12 hex): enough to tell digests apart, short enough for a table."""
    if not digest:
        return None
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}"


def _version(app: PromotedApp) -> str:
    short = title_digest(app.digest)
    if app.tag and short:
        return f"{app.tag} ({short})"
    return app.tag or short or app.image


def pull_title(env: str, apps: list[PromotedApp]) -> str:
    if len(apps) == 1:
        a = apps[0]
        if a.rollback:
            return f"roll back {a.app} in {env} to {_version(a)}"
        return f"promote {a.app} to {env}: {_version(a)}"
    listed = ", ".join(
        f"{a.app} {a.tag or title_digest(a.digest) or ''}{' (rollback)' if a.rollback else ''}".strip()
        for a in sorted(apps, key=lambda a: a.app)
    )
    title = f"promote {len(apps)} apps to {env}: {listed}"
    return title if len(title) <= 200 else title[:199] + "…"


def commit_message(env: str, apps: list[PromotedApp]) -> str:
    lines = [pull_title(env, apps), ""]
    for a in apps:
        lines.append(f"{a.app}: {a.previous or '(unknown)'} -> {a.image}")
    lines += [
        "",
        COMMIT_TRAILER,
        f"Promoter-Target: {env}/{','.join(sorted(a.app for a in apps))}",
    ]
    return "\n".join(lines) + "\n"


# The committer GitHub records on the commits it makes itself (createCommitOnBranch, the web
# editor, merges) and signs: promoter's default GitHub write path commits as the token's account
# with this committer.
GITHUB_WEB_COMMITTER = ("github", "noreply@github.com")


def has_trailer(message: str) -> bool:
    return COMMIT_TRAILER in message


def commit_writer(commit: BranchCommit) -> tuple[str, str] | None:
    """Who made this commit as one piece, or None when someone else rewrote it.

    The forge APIs promoter writes through record the token's account as both author and committer
    (GitHub Git Data API, GitLab commits API), or the account as author and GitHub itself as the
    signing committer (GitHub createCommitOnBranch). A person who amends, rebases or cherry-picks a
    commit becomes its committer while git keeps the author and the message: such a commit has
    another writer than the one promoter made, and is no longer promoter's.
    """
    author = (commit.author.strip(), commit.author_email.strip().casefold())
    committer = (commit.committer.strip(), commit.committer_email.strip().casefold())
    if not all(author) or not all(committer):
        return None  # an identity the forge did not tell: not verifiable
    if committer == author:
        return author
    if (committer[0].casefold(), committer[1]) == GITHUB_WEB_COMMITTER and commit.verified:
        return author
    return None


def is_promoter_commit(commit: BranchCommit, writer: tuple[str, str] | None) -> bool:
    """A commit promoter wrote: its trailer, made in one piece (`commit_writer`) by `writer`, the
    identity of a commit promoter verifiably wrote (its own write, or the head its marker describes).
    With no such identity nothing is verifiably promoter's."""
    return writer is not None and has_trailer(commit.message) and commit_writer(commit) == writer

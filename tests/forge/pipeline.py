"""Pipeline: a GitOps repository on the fake forge, a CI checkout of it, and the clocks both read.

What a team's pipeline does, step by step: run promoter in the checkout (the real CLI, with the
forge flags), merge pull/merge requests through the forge's API the way each forge merges, write
the commit statuses controllers and CI write, and pull the default branch again. The forge dates
the commits it writes with `now`; promoter judges soak and freeze at the same `now`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fakeforge import FakeForge, PullRequest
from forgeworld import REPO, TOKEN, git, invoke, make_repo, registry_gate_off

from promoter.publish.pullrequest import parse_marker


@dataclass
class Pipeline:
    fake: FakeForge
    kind: str  # github | gitlab
    local: Path  # the CI checkout (origin: the forge's repository)
    monkeypatch: pytest.MonkeyPatch
    extra_env: dict[str, str] = field(default_factory=dict)

    # ---- the clock -----------------------------------------------------------------------------
    def at(self, moment: datetime) -> None:
        """From now on the forge dates its commits, and promoter judges gates, at `moment`."""
        self.fake.now = moment
        self.monkeypatch.setattr("promoter.gates.engine.utcnow", lambda: moment)

    # ---- running promoter ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.fake.github_url if self.kind == "github" else self.fake.gitlab_url

    @property
    def forge_flags(self) -> list[str]:
        return ["--forge", self.kind, "--forge-url", self.url, "--forge-repo", REPO]

    @property
    def env(self) -> dict[str, str]:
        token = {"GITHUB_TOKEN": TOKEN} if self.kind == "github" else {"GITLAB_TOKEN": TOKEN}
        return {**token, **self.extra_env}

    def promoter(self, *args: str, token: bool = True) -> Any:
        env = self.env if token else {"GITHUB_TOKEN": "", "GITLAB_TOKEN": "", "GH_TOKEN": ""}
        return invoke(*args, "--repo", str(self.local), env=env)

    def status(self) -> dict[tuple[str, str], dict[str, Any]]:
        r = invoke("status", "--repo", str(self.local), "-o", "json")
        assert r.exit_code == 0, r.stderr
        return {(row["app"], row["env"]): row for row in json.loads(r.stdout)}

    def pull(self) -> str:
        """The CI checkout after a merge: the default branch as the forge has it."""
        git(self.local, "fetch", "-q", "origin", "main")
        git(self.local, "reset", "-q", "--hard", "origin/main")
        return git(self.local, "rev-parse", "HEAD").strip()

    # ---- the forge -------------------------------------------------------------------------------
    @property
    def repo(self):
        return self.fake.repo(REPO)

    def pull_request(self, number: int) -> PullRequest:
        return self.repo.pulls[number]

    def marker(self, number: int) -> dict[str, Any]:
        marker = parse_marker(self.pull_request(number).body)
        assert marker is not None, self.pull_request(number).body
        return marker

    def show(self, ref: str, path: str) -> str:
        return git(self.repo.store.path, "show", f"{ref}:{path}")

    def head(self, number: int) -> str:
        pr = self.pull_request(number)
        return self.repo.store.branch_sha(pr.head) or pr.head_sha

    def _api(self, method: str, path: str, **kw: Any) -> Any:
        if self.kind == "github":
            url = f"{self.fake.github_url}/repos/{REPO}{path}"
            headers = {"Authorization": f"token {TOKEN}", "Accept": "application/vnd.github+json"}
        else:
            url = f"{self.fake.gitlab_url}/api/v4/projects/{REPO.replace('/', '%2F')}{path}"
            headers = {"PRIVATE-TOKEN": TOKEN}
        r = requests.request(method, url, headers=headers, timeout=10, **kw)
        assert r.status_code < 300, (r.status_code, r.text)
        return r.json() if r.content else None

    def merge(self, number: int, method: str = "merge") -> str:
        """Merge through the forge's API (GitHub merge_method merge | squash | rebase; GitLab
        merge | squash, a merge commit either way); the default branch's new head."""
        if self.kind == "github":
            return str(self._api("PUT", f"/pulls/{number}/merge", json={"merge_method": method})["sha"])
        self._api("PUT", f"/merge_requests/{number}/merge", json={"squash": method == "squash"})
        sha = self.repo.store.branch_sha("main")
        assert sha
        return sha

    def set_status(self, sha: str, name: str, state: str = "success", description: str = "") -> None:
        """A commit status as Argo CD notifications, Flux or a CI job writes it (GitHub words: success, failure, pending)."""
        if self.kind == "github":
            self._api("POST", f"/statuses/{sha}", json={"state": state, "context": name, "description": description})
        else:
            words = {"failure": "failed"}
            self._api(
                "POST",
                f"/statuses/{sha}",
                json={"state": words.get(state, state), "name": name, "description": description},
            )

    def check_run(self, sha: str, name: str, conclusion: str | None = "success") -> None:
        """A GitHub check run (GitLab has none: a commit status there)."""
        if self.kind != "github":
            self.set_status(sha, name, "success" if conclusion == "success" else "failure")
            return
        body: dict[str, Any] = {"name": name, "head_sha": sha}
        body.update({"status": "completed", "conclusion": conclusion} if conclusion else {"status": "in_progress"})
        self._api("POST", "/check-runs", json=body)


# ---- a small GitOps repository of three apps, with commit times chosen ---------------------------
D0 = "sha256:" + "0" * 64
DIGESTS = {"api": "sha256:" + "a1" * 32, "cart": "sha256:" + "c2" * 32, "web": "sha256:" + "e3" * 32}
TAGS = {"api": "1.1.0", "cart": "2.1.0", "web": "3.1.0"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: every app at 1.0.0 everywhere
T1 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # api and cart reach dev
T1_WEB = T1 + timedelta(minutes=50)  # web reaches dev later
NOW = T1 + timedelta(hours=1, minutes=10)  # api and cart have soaked 1h10m in dev, web 20m


def config(group: str, prod: str = "") -> str:
    """Three apps; stage is gated (order, soak 1h); `prod` holds more YAML lines of prod's entry."""
    text = f"""\
version: 1
environments:
  - name: dev
  - name: stage
    gates:
      promotion_order: true
      soak: 1h
    pull_request:
      group: {group}
      labels: [release-train]
  - name: prod
{prod}defaults:
  path: apps/{{app}}/{{env}}
apps:
  api: {{image: ghcr.io/acme/api}}
  cart: {{image: ghcr.io/acme/cart}}
  web: {{image: ghcr.io/acme/web}}
"""
    return registry_gate_off(text)


def kustomization(app: str, tag: str, digest: str) -> str:
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n"
        f'images:\n  - name: ghcr.io/acme/{app}\n    newTag: "{tag}"  # set by promoter\n    digest: {digest}\n'
    )


# The example's base Deployment (it passes the built-in policy pack), one per app.
BASE = (Path(__file__).resolve().parents[2] / "examples/apps/checkout-api/base/deployment.yaml").read_text()


def base(app: str) -> dict[str, str]:
    return {
        f"apps/{app}/base/deployment.yaml": BASE.replace("checkout-api", app),
        f"apps/{app}/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    }


def commit_at(repo: Path, when: datetime, message: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    env = {**os.environ, "GIT_AUTHOR_DATE": when.isoformat(), "GIT_COMMITTER_DATE": when.isoformat()}
    for args in (["add", "-A"], ["commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def gitops(path: Path, group: str = "app", prod: str = "") -> Path:
    repo = make_repo(path, commit=False)
    files = {".promoter.yaml": config(group, prod)}
    for app in DIGESTS:
        files.update(base(app))
        for env in ("dev", "stage", "prod"):
            files[f"apps/{app}/{env}/kustomization.yaml"] = kustomization(app, "1.0.0", D0)
    commit_at(repo, T0, "initial", files)
    for app in ("api", "cart"):
        commit_at(
            repo, T1, f"{app} dev", {f"apps/{app}/dev/kustomization.yaml": kustomization(app, TAGS[app], DIGESTS[app])}
        )
    commit_at(
        repo, T1_WEB, "web dev", {"apps/web/dev/kustomization.yaml": kustomization("web", TAGS["web"], DIGESTS["web"])}
    )
    return repo

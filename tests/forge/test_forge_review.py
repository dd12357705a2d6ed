"""Promotion PRs a reviewer can trust, through the real CLI on both fake forges.

Each scenario checks the description against what the branch really holds in the fake forge's
git store (its files against the merge base, its commits), and every description is parsed as
CommonMark + GFM tables to prove its tables, fences and <details> blocks are well formed.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from fakeforge import FakeForge
from forgeworld import REPO, TOKEN, git, invoke, make_repo, registry_gate_off
from prbody import check_markdown, diff_files, section

from promoter.publish.pullrequest import parse_marker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OVERLAY = "apps/checkout-api/overlays/dev/kustomization.yaml"
DEBUG = "apps/checkout-api/overlays/dev/debug.yaml"
WEB_VALUES = "apps/web/env/values-dev.yaml"
BRANCH = "promoter/dev/checkout-api"


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def image(tag: str, n: int, repo: str = "ghcr.io/acme/checkout-api") -> str:
    return f"{repo}:{tag}@{digest(n)[:71]}"


def example_files(config: dict | None = None) -> dict[str, str]:
    files = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    files[".promoter.yaml"] = yaml.safe_dump(config or example_config(), sort_keys=False)
    return files


def example_config() -> dict:
    # The example's images are fictional: the registry gate is off (tests/registry judges it).
    return yaml.safe_load(registry_gate_off((EXAMPLES / ".promoter.yaml").read_text()))


@dataclass
class Cli:
    fake: FakeForge
    local: Path
    kind: str
    bodies: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": TOKEN} if self.kind == "github" else {"GITLAB_TOKEN": TOKEN}

    @property
    def flags(self) -> list[str]:
        url = self.fake.github_url if self.kind == "github" else self.fake.gitlab_url
        return ["--pr", "--forge", self.kind, "--forge-url", url, "--forge-repo", REPO]

    @property
    def store(self):
        return self.fake.repo(REPO).store

    def bump(self, img: str, *extra: str, app: str = "checkout-api"):
        res = invoke(
            "bump", "--repo", str(self.local), "--app", app, "--env", "dev", "--image", img, *self.flags, *extra,
            env=self.env,
        )  # fmt: skip
        self.record()
        return res

    def pr(self, number: int = 1):
        return self.fake.repo(REPO).pulls[number]

    def record(self) -> None:
        """Every description and comment ever written, for the checks that must hold for all of them."""
        for pr in self.fake.repo(REPO).pulls.values():
            self.bodies.append(pr.body)
            self.comments.extend(c["body"] for c in pr.comments)

    def branch_paths(self, branch: str) -> list[str]:
        """What the branch really changes against its merge base with main."""
        return sorted(self.store.changed_paths("main", branch))


def make_cli(fake: FakeForge, tmp_path: Path, kind: str, files: dict[str, str]) -> Cli:
    local = make_repo(tmp_path / "local", files)
    fake.create_repo(REPO, source=local)
    return Cli(fake, local, kind)


@pytest.fixture(params=["github", "gitlab"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def strict(fake: FakeForge, tmp_path: Path, kind: str) -> Cli:
    """The example repository where a writable root filesystem is an error in dev too."""
    config = example_config()
    config["policies"]["severity"]["readonly-root-filesystem"] = {"*": "error"}
    return make_cli(fake, tmp_path, kind, example_files(config))


def fixed_debug(cli: Cli) -> str:
    return (cli.local / DEBUG).read_text().replace("readOnlyRootFilesystem: false", "readOnlyRootFilesystem: true")


def test_reviewer_fix_sequence_keeps_the_reviewers_commit(strict: Cli) -> None:
    cli = strict
    # 1. The PR opens; its head renders a finding that blocks: a draft with a failing status.
    first = cli.bump(image("1.5.0", 1), "-o", "json")
    assert first.exit_code == 0, first.stderr
    opened = json.loads(first.stdout)["pull_request"]
    head1 = opened["head_sha"]
    assert opened["operation"] == "created" and opened["draft"] and opened["status"] == "failure"
    assert cli.pr().draft and cli.fake.status_of(REPO, head1, "promoter/check") == "failure"
    assert "readonly-root-filesystem" in section(cli.pr().body, "Validation and policies")
    assert "Not ready to merge" in cli.pr().body
    cli.fake.approve(REPO, 1, "alice")

    # 2. A reviewer pushes a fix to the promotion branch.
    fix = cli.fake.push_commit(REPO, BRANCH, {DEBUG: fixed_debug(cli)}, "make the root filesystem read-only")

    # 3. A new build: promoter appends on top of the reviewer's commit.
    second = cli.bump(image("1.5.1", 2), "-o", "json")
    assert second.exit_code == 0, second.stderr
    updated = json.loads(second.stdout)["pull_request"]
    head2 = updated["head_sha"]
    assert updated["operation"] == "updated" and cli.store.is_ancestor(fix, head2)
    assert cli.store.commit_info(head2).parents == [fix]
    assert cli.store.read_file(BRANCH, DEBUG) == fixed_debug(cli).encode()
    body = cli.pr().body
    # The description is the branch: the reviewer's file is in it, the fixed finding is gone.
    assert diff_files(body) == cli.branch_paths(BRANCH) == sorted([DEBUG, OVERLAY])
    assert "**Others committed to this branch:** Someone Else" in body and fix[:12] in body
    assert "readonly-root-filesystem" not in section(body, "Validation and policies")
    assert "+          readOnlyRootFilesystem: true" in section(body, "Rendered objects")
    assert image("1.5.1", 2) in section(body, "Rendered objects")
    # Fixed findings flip the gate: ready for review, promoter/check success on the new head.
    assert not cli.pr().draft and cli.fake.status_of(REPO, head2, "promoter/check") == "success"
    assert updated["status"] == "success" and not updated["draft"]
    # Whoever approved the older image is told by name.
    assert any("@alice" in c["body"] and image("1.5.1", 2) in c["body"] for c in cli.pr().comments)

    # 4. The next build: still appended, the reviewer's commit still there.
    third = cli.bump(image("1.5.2", 3), "-o", "json")
    assert third.exit_code == 0, third.stderr
    head3 = json.loads(third.stdout)["pull_request"]["head_sha"]
    assert cli.store.is_ancestor(fix, head3) and cli.store.branch_sha(BRANCH) == head3
    assert cli.store.read_file(BRANCH, DEBUG) == fixed_debug(cli).encode()
    body = cli.pr().body
    marker = parse_marker(body)
    assert marker and marker["head"] == head3 and marker["pure"] is False
    assert [a for a in marker["apps"][0]["chain"]] == [image("1.5.0", 1), image("1.5.1", 2)]
    assert "`1.5.0@sha256:111111111111` → `1.5.1@sha256:222222222222` → **`1.5.2@sha256:333333333333`**" in body
    assert diff_files(body) == cli.branch_paths(BRANCH)
    for b in cli.bodies:
        assert check_markdown(b) == [], b


def test_a_fix_without_a_new_build_flips_the_required_status_on_the_next_run(strict: Cli) -> None:
    cli = strict
    cli.fake.repo(REPO).required_contexts = ["promoter/check"]
    assert cli.bump(image("1.5.0", 1)).exit_code == 0
    repo = cli.fake.repo(REPO)
    assert cli.fake.mergeable_state(repo, cli.pr()) in ("draft", "blocked")
    fix = cli.fake.push_commit(REPO, BRANCH, {DEBUG: fixed_debug(cli)}, "fix the finding")
    # The same image again: nothing to write, but the description and the status catch up.
    again = cli.bump(image("1.5.0", 1), "-o", "json")
    assert again.exit_code == 0, again.stderr
    result = json.loads(again.stdout)["pull_request"]
    assert result["operation"] == "updated" and result["head_sha"] == fix
    assert cli.store.branch_sha(BRANCH) == fix  # nothing written on top
    assert cli.fake.status_of(REPO, fix, "promoter/check") == "success" and not cli.pr().draft
    assert cli.fake.mergeable_state(repo, cli.pr()) == "clean"
    assert parse_marker(cli.pr().body)["head"] == fix  # type: ignore[index]
    # A new image later still keeps that commit: the marker remembers the branch is not promoter's alone.
    later = cli.bump(image("1.5.1", 2), "-o", "json")
    assert cli.store.is_ancestor(fix, json.loads(later.stdout)["pull_request"]["head_sha"])


def test_a_conflict_leaves_the_branch_alone_comments_and_fails(strict: Cli) -> None:
    cli = strict
    assert cli.bump(image("1.5.0", 1)).exit_code == 0
    # The reviewer pins the image by hand where promoter cannot find it any more.
    text = cli.store.read_file(BRANCH, OVERLAY).decode()  # type: ignore[union-attr]
    broken = text.split("images:")[0] + "# images are set by the release team now\n"
    theirs = cli.fake.push_commit(REPO, BRANCH, {OVERLAY: broken}, "hand over the image pin")
    res = cli.bump(image("1.5.1", 2))
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not apply the promotion on promoter/dev/checkout-api" in lines[0]
    assert cli.store.branch_sha(BRANCH) == theirs  # left exactly as it is
    comments = [c["body"] for c in cli.pr().comments]
    assert len(comments) == 1 and "could not apply" in comments[0] and theirs[:12] in comments[0]


def test_train_description_covers_every_app_the_branch_carries(fake: FakeForge, tmp_path: Path, kind: str) -> None:
    config = example_config()
    config["forge"]["mode"] = "train"
    cli = make_cli(fake, tmp_path, kind, example_files(config))
    assert cli.bump(image("1.5.0", 1), "--actor", "alice").exit_code == 0
    web = image("2.0.0", 4, repo="ghcr.io/acme/web")
    res = cli.bump(web, "--actor", "bob", "-o", "json", app="web")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["pull_request"]["operation"] == "updated"
    body = cli.pr().body
    # Every app on the branch, with its files, its rendered objects (or why not) and its provenance.
    assert diff_files(body) == cli.branch_paths("promoter/dev") == sorted([OVERLAY, WEB_VALUES])
    assert "| checkout-api |" in section(body, "Provenance") and "alice" in section(body, "Provenance")
    assert "| web |" in section(body, "Provenance") and "bob" in section(body, "Provenance")
    assert "**2 files** changed" in section(body, "Summary")
    rendered = section(body, "Rendered objects")
    assert "Deployment checkout-dev/checkout-api" in rendered and image("1.5.0", 1) in rendered
    assert "apps/web/chart" in rendered  # rendered, or named as not rendered: never silently absent
    assert "No promotion gates are configured for `dev`" in section(body, "Gates")
    marker = parse_marker(body)
    assert marker and sorted(a["app"] for a in marker["apps"]) == ["checkout-api", "web"]
    assert check_markdown(body) == []


CANARIES = {
    "data": "CANARY-data-7c1e0b",
    "data2": "CANARY-data-late-5d2f",
    "string": "CANARY-string-2a9d",
    "cm": "CANARY-cm-83bb",
    "props": "CANARY-props-1f0c",
    "env": "CANARY-env-6e44",
    "literal": "CANARY-literal-90aa",
    "values": "CANARY-values-3b7d",
    "url": "CANARY-url-c4d1",
}


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def secret_repo(canary: dict[str, str]) -> dict[str, str]:
    padding = "".join(f"  pad{i}: {_b64(f'padding-{i}')}\n" for i in range(8))
    return {
        ".promoter.yaml": "version: 1\nenvironments:\n  - name: dev\n    gates: {image_exists: false}\n"
        "defaults:\n  path: apps/{app}/{env}\n"
        "apps:\n  api:\n    image: ghcr.io/acme/api\n",
        "apps/api/dev/kustomization.yaml": "resources:\n  - deployment.yaml\n  - secret.yaml\n  - configmap.yaml\n"
        'images:\n  - name: ghcr.io/acme/api\n    newTag: "1.0.0"\n'
        f"secretGenerator:\n  - name: generated\n    literals:\n      - API_KEY={canary['literal']}\n",
        "apps/api/dev/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
        "  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n"
        "    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:0.0.0\n"
        f"          env:\n            - name: DB_PASSWORD\n              value: {canary['env']}\n",
        # `data:` sits far above the last value: a text diff's three context lines do not reach it.
        "apps/api/dev/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
        f"  first: {_b64(canary['data'])}\n{padding}  last: {_b64(canary['data2'])}\n"
        f"stringData:\n  token: {canary['string']}\n",
        "apps/api/dev/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n"
        f"  DB_PASSWORD: {canary['cm']}\n  color: blue\n  app.properties: |\n    db.user=app\n"
        f"    db.password={canary['props']}\n  DATABASE_URL: postgres://app:{canary['url']}@db:5432/app\n",
        # Helm-style values no overlay reads: masked in the file diff all the same.
        "apps/api/values.yaml": f"image:\n  tag: 1.0.0\nauth:\n  rootPassword: {canary['values']}\n",
    }


def test_no_canary_secret_reaches_any_description_or_comment(fake: FakeForge, tmp_path: Path, kind: str) -> None:
    cli = make_cli(fake, tmp_path, kind, secret_repo(CANARIES))
    assert cli.bump("ghcr.io/acme/api:1.1.0@" + digest(5)[:71], app="api").exit_code == 0
    fake.approve(REPO, 1, "alice")
    # Someone changes every secret on the branch: the diffs must say "changed", never show a value.
    changed = {k: v.replace("CANARY", "CANARY2") for k, v in CANARIES.items()}
    new_files = secret_repo(changed)
    touched = {p: t for p, t in new_files.items() if p.endswith((".yaml",)) and p != ".promoter.yaml"}
    touched["apps/api/dev/kustomization.yaml"] = (
        cli.store.read_file("promoter/dev/api", "apps/api/dev/kustomization.yaml")
        .decode()
        .replace(CANARIES["literal"], changed["literal"])
    )  # type: ignore[union-attr]
    touched.pop("apps/api/dev/deployment.yaml")
    deployment = cli.store.read_file("promoter/dev/api", "apps/api/dev/deployment.yaml")
    assert deployment is not None
    touched["apps/api/dev/deployment.yaml"] = deployment.decode().replace(CANARIES["env"], changed["env"])
    fake.push_commit(REPO, "promoter/dev/api", touched, "rotate every secret")
    res = cli.bump("ghcr.io/acme/api:1.2.0@" + digest(6)[:71], app="api")
    assert res.exit_code == 0, res.stderr
    body = cli.pr().body
    files = section(body, "File changes")
    assert files.count("changed (value hidden)") >= 8, files
    assert "  last: changed (value hidden)" in files and "  token: changed (value hidden)" in files
    assert "API_KEY=changed (value hidden)" in files and "db.password=changed (value hidden)" in files
    assert "rootPassword: changed (value hidden)" in files and "color: blue" in body
    rendered = section(body, "Rendered objects")
    assert "changed (value hidden)" in rendered and "Secret" in rendered
    needles = [*CANARIES.values(), *changed.values()]
    needles += [_b64(v) for v in needles]
    assert cli.bodies and cli.comments, "no description or comment recorded"
    for text in cli.bodies + cli.comments:
        leaked = [n for n in needles if n in text]
        assert not leaked, leaked
    for text in cli.bodies:
        assert check_markdown(text) == []


def test_the_rollback_command_pasted_opens_a_rollback_pr(
    fake: FakeForge, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = make_cli(fake, tmp_path, kind, example_files())
    before = "ghcr.io/acme/checkout-api:1.4.2@sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9"
    assert cli.bump(image("1.5.0", 1)).exit_code == 0
    body = cli.pr().body
    commands = [ln for ln in section(body, "Rollback").splitlines() if ln.startswith("promoter rollback")]
    assert len(commands) == 1 and "--pr" in commands[0] and before in commands[0]
    fake.merge_pull(REPO, 1)
    # The checkout follows main, as CI's would after the merge.
    git(cli.local, "fetch", "-q", str(cli.store.path), "main")
    git(cli.local, "reset", "-q", "--hard", "FETCH_HEAD")
    monkeypatch.chdir(cli.local)
    pasted = invoke(*shlex.split(commands[0])[1:], env=cli.env)
    assert pasted.exit_code == 0, pasted.stderr
    cli.record()
    rollback = max(cli.fake.repo(REPO).pulls.values(), key=lambda p: p.number)
    assert rollback.number == 2 and rollback.state == "open"
    assert rollback.title == "roll back checkout-api in dev to 1.4.2 (sha256:3f2a9c…)"
    assert "rollback" in rollback.labels
    assert rollback.body.startswith("## Roll back checkout-api in dev")
    history = section(rollback.body, "History of `dev` this rollback chose from")
    assert "| `1.5.0@sha256:111111111111` |" in history and "running now" in history
    assert "`1.4.2@sha256:3f2a9c1d5be4`" in history and "⬅️ rolling back to this" in history
    overlay = (cli.store.read_file(rollback.head, OVERLAY) or b"").decode()
    assert 'newTag: "1.4.2"' in overlay and before.split("@")[1] in overlay
    assert check_markdown(rollback.body) == []


def test_a_freeze_override_is_shown_with_who_and_why(fake: FakeForge, tmp_path: Path, kind: str) -> None:
    config = example_config()
    config["environments"][0]["gates"]["freeze"] = [{"from": "2020-01-01", "to": "2099-12-31", "reason": "release"}]
    cli = make_cli(fake, tmp_path, kind, example_files(config))
    blocked = cli.bump(image("1.5.0", 1))
    assert blocked.exit_code == 3 and not cli.fake.repo(REPO).pulls
    res = cli.bump(image("1.5.0", 1), "--override-freeze", "INC-7: checkout is down", "--actor", "octocat")
    assert res.exit_code == 0, res.stderr
    body = cli.pr().body
    top = body.split("| App |", 1)[0]
    assert "⚠️ **Freeze overridden** by **octocat**" in top and "**Why:** INC-7: checkout is down" in top
    gates = section(body, "Gates")
    assert "| freeze | checkout-api | ⚠️ overridden |" in gates
    assert "--override-freeze '<why this cannot wait>'" in section(body, "Rollback")
    assert check_markdown(body) == []


def test_without_drafts_the_required_status_still_blocks(fake: FakeForge, tmp_path: Path) -> None:
    config = example_config()
    config["policies"]["severity"]["readonly-root-filesystem"] = {"*": "error"}
    cli = make_cli(fake, tmp_path, "github", example_files(config))
    repo = fake.repo(REPO)
    repo.drafts_supported = False  # a private repository on GitHub Free
    repo.required_contexts = ["promoter/check"]
    res = cli.bump(image("1.5.0", 1), "-o", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)["pull_request"]
    assert out["operation"] == "created" and not out["draft"] and out["status"] == "failure"
    assert any("no draft pull requests" in n for n in out["notes"])
    assert fake.mergeable_state(repo, cli.pr()) == "blocked"

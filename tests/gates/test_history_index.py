"""history in one pass: the one-`git log` index gives exactly what reading each (app, env) apart gave.

The reference below is the per-(app, environment) reading promoter had before the index (one
`git log -- <the scope's paths>` with `--name-status`, one `git cat-file` of `<commit>:<path>`
per scope); the histories are random but seeded, written with `git fast-import`: merges of
older branch commits, deletions, broken YAML, comments, chart templates, hidden folders,
non-YAML files, explicit targets, chart defaults that change, a GitOps folder inside a larger
work tree with commits outside it, and file names git allows but a parser may trip on.
"""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promoter.config.loader import load_config
from promoter.config.model import Config
from promoter.history import index as index_module
from promoter.history.git import GitRepo, run_git
from promoter.history.index import Change
from promoter.history.pincache import PinCache
from promoter.history.status import status
from promoter.history.timeline import (
    ImageState,
    Timeline,
    _parse_defaults,
    current_image,
    read_timelines,
)
from promoter.locate.chartvalues import values_file
from promoter.locate.scope import env_scope
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef

ENVS = ("dev", "stage", "prod")
START = 1_780_000_000
CONFIG = """\
version: 1
environments:
  - name: dev
  - name: stage
  - name: prod
defaults:
  path: apps/{app}/{env}
apps:
  api:
    image: ghcr.io/acme/api
  web:
    image: ghcr.io/acme/web
    chart: charts/web
    paths:
      dev: envs/web-dev.yaml
      stage: envs/web-stage.yaml
      prod: envs/web-prod.yaml
  svc:
    image: ghcr.io/acme/svc
    targets:
      dev: [{file: values/dev.yaml, key: svc.version}]
      stage: [{file: values/stage.yaml, key: svc.version}]
      prod: [{file: values/prod.yaml, key: svc.version}]
"""
TAGS = ("1.0.0", "1.1.0", "1.2.0", "2.0.0")
DIGESTS = tuple(f"sha256:{i:064x}" for i in range(1, 5))


# ---- the reference: promoter's per-(app, env) reading before the index ------------------------


def reference_timeline(repo: Path, config: Config, app: str, env: str, ref: str) -> Timeline:
    """One scope's history read apart: `git log -- <its paths>`, then its texts by `<commit>:<path>`."""
    scope = env_scope(config, app, env)
    g = GitRepo.open(repo)
    commit = g.resolve(ref)

    def full(rel: str) -> str:
        if rel in ("", "."):
            return g.prefix or "."
        return f"{g.prefix}/{rel}" if g.prefix else rel

    out = subprocess.run(
        ["git", "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--format=%x01%H %ct"]
        + ["--name-status", "-z", commit, "--", *(f":(literal){full(p)}" for p in scope.paths)],
        cwd=g.root,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    # `\x01<sha> <time>`, then (status, path) pairs; read in pairs, so a name holding \x01 stays a name.
    changes: list[Change] = []
    tokens = out.split("\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip("\n")
        if token.startswith("\x01"):
            sha, ct = token[1:].split(" ")
            changes.append(Change(sha, datetime.fromtimestamp(int(ct), tz=UTC), ()))
            i += 1
        elif token:
            path = tokens[i + 1]
            rel = path if not g.prefix else path[len(g.prefix) + 1 :] if path.startswith(g.prefix + "/") else None
            if rel is not None:
                last = changes[-1]
                changes[-1] = Change(last.commit, last.time, (*last.files, (token[:1], rel)))
            i += 2
        else:
            i += 1
    changes.reverse()
    known = {rel for c in changes for _, rel in c.files}

    specs = [f"{c.commit}:{full(rel)}" for c in changes for status, rel in c.files if status != "D"]
    if scope.chart:
        specs.append(f"{commit}:{full(values_file(scope.chart))}")
    texts = cat_file(g.root, specs)
    versions = [
        {
            rel: None if status == "D" else texts.get(f"{c.commit}:{full(rel)}")
            for status, rel in c.files
            if scope.contains(rel, known)
        }
        for c in changes
    ]
    defaults = None
    if scope.chart:
        rel = values_file(scope.chart)
        defaults = _parse_defaults(rel, texts.get(f"{commit}:{full(rel)}"), strict=False)
    return Timeline(scope, changes, versions, defaults)


def cat_file(root: Path, specs: list[str]) -> dict[str, str | None]:
    """`<commit>:<path>` texts with one `git cat-file --batch` (None: not a blob there).

    A path with a newline cannot be named on the batch's input (before the index, promoter sent it
    anyway and misread every object after it); those are read one by one here.
    """
    unique = [s for s in dict.fromkeys(specs) if "\n" not in s]
    out: dict[str, str | None] = {}
    for spec in dict.fromkeys(s for s in specs if "\n" in s):
        proc = subprocess.run(["git", "cat-file", "blob", spec], cwd=root, capture_output=True, check=False)
        out[spec] = proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None
    if not unique:
        return out
    data = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="\n".join(unique).encode("utf-8", "surrogateescape") + b"\n",
        capture_output=True,
        check=True,
    ).stdout
    pos = 0
    for spec in unique:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) == 3:
            size = int(header[2])
            out[spec] = data[pos : pos + size].decode("utf-8", "replace") if header[1] == b"blob" else None
            pos += size + 1
        else:
            out[spec] = None
    return out


# ---- random histories ---------------------------------------------------------------------------


def kustomization(rng: random.Random, comment: str = "") -> str:
    tag, digest = rng.choice((*TAGS, None)), rng.choice((*DIGESTS, None))
    out = f"{comment}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: ghcr.io/acme/api\n"
    if tag:
        out += f'    newTag: "{tag}"\n'
    if digest:
        out += f"    digest: {digest}\n"
    return out


def deployment(rng: random.Random) -> str:
    image = "ghcr.io/acme/api" + rng.choice(("", ":" + rng.choice(TAGS), "@" + rng.choice(DIGESTS)))
    return f"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: {image}\n"


def web_values(rng: random.Random) -> str:
    """An environment's values file over the web chart: the registry comes from the chart's defaults."""
    return f"image:\n  repository: acme/web\n  tag: '{rng.choice(TAGS)}'\n"


def change(rng: random.Random, files: dict[str, str]) -> dict[str, str | None]:
    """One random edit of the GitOps folder (paths relative to it)."""
    env = rng.choice(ENVS)
    where = f"apps/api/{env}"
    roll = rng.choice((*range(16), 9, 9, 10, 11))
    if roll < 4:
        return {f"{where}/kustomization.yaml": kustomization(rng)}
    if roll == 4:  # the same values, a comment more: the same state
        old = files.get(f"{where}/kustomization.yaml")
        return {f"{where}/kustomization.yaml": "# reviewed\n" + old} if old else {}
    if roll == 5:
        return {f"{where}/deployment.yaml": rng.choice((deployment(rng), None))}
    if roll == 6:
        return {f"{where}/kustomization.yaml": "images: [\n"}  # broken YAML pins nothing
    if roll == 7:  # not read: a README, a hidden folder, a chart's Go templates
        return {
            rng.choice(
                (f"{where}/README.md", f"{where}/.hidden/x.yaml", f"{where}/chart/templates/d.yaml")
            ): deployment(rng),
            f"{where}/chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        }
    if roll == 8:  # the whole environment folder goes
        return {p: None for p in files if p.startswith(where + "/")}
    if roll == 9:
        return {f"envs/web-{env}.yaml": web_values(rng)}
    if roll == 10:  # the chart's defaults: a registry that makes (or stops making) the values the app's image
        registry = rng.choice(("ghcr.io", "ghcr.io", "ghcr.io", "docker.io"))
        return {"charts/web/values.yaml": f"image:\n  registry: {registry}\n  repository: acme/web\n  tag: '0.0.1'\n"}
    if roll == 11:
        value = rng.choice((*TAGS, None))
        text = f"svc:\n  version: {value}\n" if value else "other: 1\n"  # a missing key: the file pins nothing
        return {f"values/{env}.yaml": text}
    if roll == 12:  # names a parser may trip on
        name = rng.choice(("we\x01ird.yaml", ":colon.yaml", "new\nline.yaml", "spaced name.yml", "Kustomization"))
        return {f"{where}/{name}": rng.choice((deployment(rng), kustomization(rng)))}
    if roll == 13:
        return {"apps/api/base/deployment.yaml": deployment(rng)}  # outside every environment
    if roll == 14:
        return {f"{where}/sub/patch.yml": deployment(rng)}
    return {f"{where}/kustomization.yaml": kustomization(rng, comment=f"# {rng.random()}\n")}


def quoted(path: str) -> str:
    """A path as `git fast-import` reads it: C-style quoted, so any byte but NUL is allowed."""
    out = []
    for ch in path:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def random_history(root: Path, seed: int, commits: int = 36, prefix: str = "deploy") -> tuple[Path, list[str]]:
    """A work tree at `root` whose GitOps folder is `root/prefix`; returns it and main's first-parent commits."""
    rng = random.Random(seed)
    stream: list[str] = []
    mark = 0
    when = START
    main = {f"{prefix}/.promoter.yaml": CONFIG, "README.md": "outside the GitOps folder\n"}
    main_mark = 0
    first_parent: list[int] = []

    def commit(ref: str, parent: int, files: dict[str, str | None], at: int, merge: int = 0) -> int:
        nonlocal mark
        mark += 1
        stream.append(f"commit {ref}\nmark :{mark}\ncommitter T <t@example.com> {at} +0000\ndata 2\nc\n")
        if parent:
            stream.append(f"from :{parent}\n")
        if merge:
            stream.append(f"merge :{merge}\n")
        for path, text in files.items():
            if text is None:
                stream.append(f"D {quoted(path)}\n")
            else:
                data = text.encode()
                stream.append(f"M 100644 inline {quoted(path)}\ndata {len(data)}\n{text}\n")
        return mark

    def in_prefix(edit: dict[str, str | None]) -> dict[str, str | None]:
        return {f"{prefix}/{p}": t for p, t in edit.items()}

    def gitops(files: dict[str, str]) -> dict[str, str]:
        return {p[len(prefix) + 1 :]: t for p, t in files.items() if p.startswith(prefix + "/")}

    first = {f"apps/api/{e}/kustomization.yaml": kustomization(rng) for e in ENVS}
    first.update({f"values/{e}.yaml": "svc:\n  version: 1.0.0\n" for e in ENVS})
    first.update({f"envs/web-{e}.yaml": web_values(rng) for e in ENVS})
    first["charts/web/values.yaml"] = "image:\n  registry: ghcr.io\n  repository: acme/web\n  tag: '0.0.1'\n"
    main.update(in_prefix(first))  # type: ignore[arg-type]
    main_mark = commit("refs/heads/main", 0, dict(main), when)
    first_parent.append(main_mark)
    while len(first_parent) < commits:
        when += 3600
        roll = rng.random()
        if roll < 0.15:  # a pull request: branch commits an hour or two older, merged with a merge commit
            branch = dict(main)
            edits: dict[str, str | None] = {}
            tip = main_mark
            for k in range(rng.randint(1, 2)):
                edit = in_prefix(change(rng, gitops(branch)))
                for p, t in edit.items():
                    branch.pop(p, None) if t is None else branch.__setitem__(p, t)
                edits.update(edit)
                tip = commit("refs/heads/pr", tip, edit, when - 7200 + k)
            if rng.random() < 0.5:  # main moves on meanwhile
                edit = in_prefix(change(rng, gitops(main)))
                main_mark = commit("refs/heads/main", main_mark, edit, when - 60)
                for p, t in edit.items():
                    main.pop(p, None) if t is None else main.__setitem__(p, t)
                first_parent.append(main_mark)
            for p, t in edits.items():
                main.pop(p, None) if t is None else main.__setitem__(p, t)
            main_mark = commit("refs/heads/main", main_mark, edits, when, merge=tip)
        elif roll < 0.2:
            edit = {"README.md": f"outside {when}\n"}
            main_mark = commit("refs/heads/main", main_mark, edit, when)  # type: ignore[arg-type]
        else:
            edit = in_prefix(change(rng, gitops(main)))
            for p, t in edit.items():
                main.pop(p, None) if t is None else main.__setitem__(p, t)
            main_mark = commit("refs/heads/main", main_mark, edit, when)
        first_parent.append(main_mark)
    stream.append("".join(f"reset refs/tags/fp{i}\nfrom :{m}\n" for i, m in enumerate(first_parent)))
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)
    tags = [f"fp{i}" for i in range(len(first_parent))]
    return root / prefix, tags


def same_timeline(got: Timeline, want: Timeline, images: list[ImageRef]) -> None:
    assert got.changes == want.changes
    assert got.versions == want.versions
    assert got.defaults == want.defaults
    assert got.history() == want.history()
    assert got.current() == want.current()
    for image in images:
        assert got.stints(image) == want.stints(image), image


def images_of(states: list[ImageState], repository: str) -> list[ImageRef]:
    base = ImageRef.parse(repository)
    seen = {(s.tag, s.digest) for s in states} | {(t, None) for t in TAGS} | {(None, d) for d in DIGESTS}
    return [base.with_(tag=t, digest=d) for t, d in sorted(seen, key=str) if t or d]


@pytest.mark.parametrize("seed", [1, 4, 5, 6])
def test_one_pass_gives_the_states_of_the_per_env_reading(tmp_path, monkeypatch, seed):
    repo, refs = random_history(tmp_path / "work", seed)
    config = load_config(repo)
    scopes = {(a, e): env_scope(config, a, e) for a in config.apps for e in ENVS}
    rng = random.Random(seed)
    for ref in ["HEAD", *rng.sample(refs, 4)]:
        union = read_timelines(repo, scopes.values(), ref)  # one log of the nine scopes' paths
        monkeypatch.setattr(index_module, "MAX_PATHSPECS", 0)  # one log of the whole folder
        whole = read_timelines(repo, scopes.values(), ref, cache=PinCache(None))  # a cache: not the process's memo
        monkeypatch.undo()
        for (app, env), scope in scopes.items():
            want = reference_timeline(repo, config, app, env, ref)
            images = images_of(want.history(), config.apps[app].image)
            same_timeline(union[scope], want, images)
            same_timeline(whole[scope], want, images)


def test_the_random_histories_exercise_what_they_claim(tmp_path):
    states: dict[tuple[str, str], list[int]] = {}
    merges = 0
    for seed in (4, 6):
        repo, _ = random_history(tmp_path / f"work{seed}", seed)
        log = run_git(repo, "log", "--first-parent", "--format=%P", "main").stdout.split("\n")
        merges += sum(1 for parents in log if len(parents.split()) == 2)
        config = load_config(repo)
        for a in config.apps:
            for e in ENVS:
                states.setdefault((a, e), []).append(len(reference_timeline(repo, config, a, e, "HEAD").history()))
    assert merges >= 2  # merges on the first-parent line
    assert sum(sum(n) for n in states.values()) > 40
    for app in ("api", "web", "svc"):
        assert any(n > 1 for (a, _), ns in states.items() if a == app for n in ns), app


def test_status_equals_the_per_env_reading(tmp_path):
    repo, _ = random_history(tmp_path / "work", 5, commits=40)
    config = load_config(repo)
    rows = status(repo, config)
    for row in rows:
        want = reference_timeline(repo, config, row.app, row.env, "HEAD").current()
        assert (row.tag, row.digest, row.file, row.line, row.commit, row.since) == (
            (want.tag, want.digest, want.file, want.line, want.commit, want.time) if want else (None,) * 6
        ), (row.app, row.env)
    work = status(repo, config, ref=None)
    for row in work:
        try:
            want = current_image(repo, config, row.app, row.env, None)
        except UsageError as exc:
            assert row.error == exc.message
            continue
        assert row.error is None
        assert (row.tag, row.digest, row.file, row.line) == (
            (want.tag, want.digest, want.file, want.line) if want else (None,) * 4
        )


def test_file_names_with_control_characters_are_read_as_names(tmp_path):
    from tests.conftest import git, make_repo

    repo = make_repo(tmp_path / "r", {".promoter.yaml": CONFIG})
    weird = "apps/api/dev/a\x01b 1702600000.yaml"  # the log's header mark inside a name
    (repo / "apps/api/dev").mkdir(parents=True)
    (repo / weird).write_text(deployment(random.Random(1)))
    (repo / "apps/api/dev/new\nline.yaml").write_text(deployment(random.Random(0)))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "weird names")
    config = load_config(repo)
    state = current_image(repo, config, "api", "dev", "HEAD")
    work = current_image(repo, config, "api", "dev", None)
    assert state is not None and work is not None
    assert state.values() == work.values()
    assert {p.file for p in state.pins} == {weird, "apps/api/dev/new\nline.yaml"}


def test_status_reads_git_log_once_however_many_apps(tmp_path, monkeypatch):
    repo, _ = random_history(tmp_path / "work", 6, commits=12)
    config = load_config(repo)
    calls: list[list[str]] = []
    real = subprocess.run

    def spy(args, *a, **kw):
        if args and args[0] == "git":
            calls.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", spy)
    monkeypatch.setenv("PROMOTER_CACHE_DIR", "off")
    rows = status(repo, config)
    assert len(rows) == 9
    assert [c[1] for c in calls].count("log") == 1
    assert [c[1] for c in calls].count("cat-file") == 1


def test_a_promotion_reads_the_base_branch_once(tmp_path, monkeypatch):
    """promote: the source environment and every gate of the target come from one `git log`."""
    from tests.conftest import invoke, make_repo, registry_gate_off

    cfg = registry_gate_off(
        CONFIG.replace("  - name: stage\n", "  - name: stage\n    gates: {promotion_order: true, soak: 1h}\n")
    )
    kust = "images:\n  - name: ghcr.io/acme/api\n    newTag: '{}'\n    digest: {}\n"
    repo = make_repo(
        tmp_path / "r",
        {
            ".promoter.yaml": cfg,
            "apps/api/dev/kustomization.yaml": kust.format("1.1.0", DIGESTS[1]),
            "apps/api/stage/kustomization.yaml": kust.format("1.0.0", DIGESTS[0]),
        },
    )
    calls: list[list[str]] = []
    real = subprocess.run

    def spy(args, *a, **kw):
        if args and args[0] == "git":
            calls.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", spy)
    r = invoke("promote", "--repo", str(repo), "--app", "api", "--from", "dev", "--dry-run")
    assert "soak" in r.stdout + r.stderr, r.stdout + r.stderr  # the gate ran on the history read
    assert [c[1] for c in calls].count("log") == 1, [c[:3] for c in calls]


def test_check_reads_history_once_however_many_promotions(fresh_pipeline, monkeypatch):
    """gates_for_diff: what the PR changes (at the merge base) and what the gates judge (on the base
    branch) come from one read of every environment of the apps it moves."""
    from promoter.gates.engine import gates_for_diff

    from .conftest import D4, T6_MERGE, git, kustomization

    repo, _ = fresh_pipeline
    git(repo.gitdir, "checkout", "-q", "-b", "pr")
    cfg = (repo.path / ".promoter.yaml").read_text()
    for app in ("cache", "redis"):
        image = {"cache": "quay.io/acme/cache", "redis": "redis"}[app]
        for env in ("dev", "stage", "prod"):
            repo.write({f"apps/{app}/{env}/kustomization.yaml": kustomization("1.0.0", D4, image)})
    repo.commit(T6_MERGE.replace(day=17), "more apps")
    git(repo.gitdir, "checkout", "-q", "main")
    git(repo.gitdir, "merge", "-q", "--no-ff", "-m", "apps", "pr", when=T6_MERGE.replace(day=18))
    git(repo.gitdir, "checkout", "-q", "-b", "pr2")
    for app, image in (("api", "ghcr.io/acme/api"), ("cache", "quay.io/acme/cache"), ("redis", "redis")):
        repo.write({f"apps/{app}/prod/kustomization.yaml": kustomization("2.0.0", D4.replace("4", "5"), image)})
    assert cfg == (repo.path / ".promoter.yaml").read_text()
    calls: list[list[str]] = []
    real = subprocess.run

    def spy(args, *a, **kw):
        if args and args[0] == "git":
            calls.append(list(args))
        return real(args, *a, **kw)

    gates = {"prod": {"promotion_order": True, "soak": "1h"}}
    config = repo.config(**gates)
    monkeypatch.setattr(subprocess, "run", spy)
    result = gates_for_diff(repo.path, config, "main", now=datetime(2026, 12, 1, tzinfo=UTC))
    assert sorted(result.targets) == ["api/prod", "cache/prod", "redis/prod"]
    # The PR forked from main's tip: the merge base is the base branch, read once for both questions.
    assert [c[1] for c in calls].count("log") == 1

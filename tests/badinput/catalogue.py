"""The bad-input catalogue: what a hostile or careless user, repository or machine hands promoter, and
the one line promoter must answer with.

Each case is a command run on a fresh copy of the bundled example repository (committed, registry
gate off), after an optional `setup` that spoils something. The runner (test_catalogue.py) asserts
for every case: the documented exit code, exactly one line on stderr starting `promoter: error:`
(or one `promoter: warning:` for what is skipped), holding every `says` fragment (the problem and
where it is), no traceback, a bounded length, and the repository exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

API = "ghcr.io/acme/checkout-api"
WEB = "ghcr.io/acme/web"
D1 = "sha256:" + "1" * 64
DEV_OVERLAY = "apps/checkout-api/overlays/dev"
DEV_KUST = f"{DEV_OVERLAY}/kustomization.yaml"
DEV_VALUES = "apps/web/env/values-dev.yaml"
CONFIG = ".promoter.yaml"

_EXAMPLE_CONFIG = (Path(__file__).resolve().parents[2] / "examples" / CONFIG).read_text().splitlines()
# Line of the example config's default path template (the cases below spoil it and expect it named).
PATH_LINE = 1 + next(i for i, ln in enumerate(_EXAMPLE_CONFIG) if "path: apps/{app}/overlays/{env}" in ln)

BUMP_API = ["bump", "--app", "checkout-api", "--env", "dev", "--image", f"{API}:1.5.0"]
BUMP_WEB = ["bump", "--app", "web", "--env", "dev", "--image", f"{WEB}:3.0.0"]


def billion_laughs(indent: str = "") -> str:
    """Nine anchors, each nine aliases of the one before: 9^9 strings from 700 bytes."""
    lines = [f'{indent}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"{indent}a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    says: tuple[str, ...]
    setup: Callable[[Path], None] | None = None
    warning: bool = False  # the problem is skipped with one warning line, the command goes on
    cwd_repo: bool = False  # run from inside the repository (paths relative to it)
    hold_lock: bool = False  # another promoter holds the repository's lock while the command runs


# ---- setups ------------------------------------------------------------------------------------
def write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    def do(repo: Path) -> None:
        f = repo / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            f.write_bytes(text)
        else:
            f.write_text(text)

    return do


def append(rel: str, text: str) -> Callable[[Path], None]:
    def do(repo: Path) -> None:
        f = repo / rel
        f.write_text(f.read_text() + text)

    return do


def replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def do(repo: Path) -> None:
        f = repo / rel
        text = f.read_text()
        assert old in text, f"{old!r} not in {rel}"
        f.write_text(text.replace(old, new, 1))

    return do


def fifo(rel: str) -> Callable[[Path], None]:
    def do(repo: Path) -> None:
        os.mkfifo(repo / rel)

    return do


def loop(rel: str) -> Callable[[Path], None]:
    """`rel` → `rel.2` → `rel`: a symlink loop."""

    def do(repo: Path) -> None:
        a = repo / rel
        b = a.with_name(a.name + ".2")
        if a.exists() or a.is_symlink():
            a.unlink()
        os.symlink(b.name, a)
        os.symlink(a.name, b)

    return do


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def do(repo: Path) -> None:
        for s in setups:
            s(repo)

    return do


def config_with(text: str) -> Callable[[Path], None]:
    return write(CONFIG, text)


MINIMAL = "environments:\n  - name: dev\n    gates: {image_exists: false}\n"
LONG = "x" * 10_000


# ---- arguments ---------------------------------------------------------------------------------
ARGUMENTS = [
    Case("tag-fullwidth-digit", ["bump", "--path", DEV_OVERLAY, "--image", f"{API}:1.5.０"], 2, ("'1.5.０'", "ASCII")),
    Case("tag-accented", ["bump", "--path", DEV_OVERLAY, "--image", f"{API}:v1.5.0é"], 2, ("'v1.5.0é'", "ASCII")),
    Case("tag-flag-unicode", [*BUMP_API[:-2], "--image", f"{API}@{D1}", "--tag", "1.５"], 2, ("'1.５'", "ASCII")),
    Case("image-shell-metachar", ["bump", "--path", DEV_OVERLAY, "--image", f"{API}:1;rm"], 2, ("shell metachar",)),
    Case("image-uppercase", ["bump", "--path", DEV_OVERLAY, "--image", "ghcr.io/ACME/api:1"], 2, ("lowercase",)),
    Case("image-10000-chars", ["bump", "--path", DEV_OVERLAY, "--image", LONG + ":1"], 2, ("10002 characters",)),
    Case("image-short-digest", ["bump", "--path", DEV_OVERLAY, "--image", f"{API}@sha256:abc"], 2, ("64 hex",)),
    Case("image-no-tag", ["bump", "--path", DEV_OVERLAY, "--image", API], 2, ("neither tag nor digest",)),
    Case("image-empty", ["bump", "--path", DEV_OVERLAY, "--image", ""], 2, ("invalid image reference", "empty")),
    Case("tag-contradicts", [*BUMP_API[:-1], f"{API}:1.5.0", "--tag", "1.6.0"], 2, ("--tag 1.6.0 contradicts",)),
    Case("no-target", ["bump", "--image", f"{API}:1.5.0"], 2, ("say where to bump",)),
    Case("path-and-app", [*BUMP_API, "--path", DEV_OVERLAY], 2, ("not both",)),
    Case("path-absolute", ["bump", "--path", "/etc", "--image", f"{API}:1.5.0"], 2, ("'/etc'", "absolute")),
    Case("path-dotdot", ["bump", "--path", "../x", "--image", f"{API}:1.5.0"], 2, ("'../x'", "leaves the repository")),
    Case("path-missing", ["bump", "--path", "nope", "--image", f"{API}:1.5.0"], 2, ("'nope'", "does not exist")),
    Case("app-unknown-long", ["bump", "--app", LONG, "--env", "dev", "--image", f"{API}:1"], 2, ("unknown app",)),
    Case("env-unknown", ["bump", "--app", "checkout-api", "--env", "qa", "--image", f"{API}:1"], 2, ("'qa'",)),
    Case("repo-not-folder", ["bump", "--repo", "/nonexistent/x", *BUMP_API[1:]], 2, ("--repo",)),
    Case("config-missing", [*BUMP_API, "--config", "nope.yaml"], 2, ("nope.yaml", "does not exist")),
    Case("config-folder", [*BUMP_API, "--config", "{repo}/apps"], 2, ("apps", "is a folder")),
    Case("pr-with-path", ["bump", "--pr", "--path", DEV_OVERLAY, "--image", f"{API}:1"], 2, ("--pr needs",)),
    Case("unknown-option", [*BUMP_API, "--frobnicate"], 2, ("--frobnicate",)),
    Case("check-unknown-format", ["check", "--all", "-o", "yaml"], 2, ("unknown format 'yaml'",)),
    Case("check-empty-file", ["check", "--all", "-o", "json="], 2, ("no file after '='",)),
    Case("check-same-file", ["check", "--all", "-o", "json=r.out", "-o", "sarif=r.out"], 2, ("already",)),
    Case("check-report-is-config", ["check", "--all", "-o", "json={repo}/.promoter.yaml"], 2, ("the configuration",)),
    Case("check-report-tracked", ["check", "--all", "-o", "json={repo}/" + DEV_KUST], 2, (DEV_KUST, "Git tracks it")),
    # Untracked inputs and Git's own files: a report there destroyed the repository (`.git/HEAD`) or the
    # manifest just checked; a YAML report would be read as a manifest (or the configuration) next time.
    Case("check-report-git-head", ["check", "--all", "-o", "json={repo}/.git/HEAD"], 2, (".git/HEAD", "Git folder")),
    Case("check-report-git-config", ["check", "--all", "-o", "sarif={repo}/.git/config"], 2, ("Git folder",)),
    Case(
        "check-report-untracked-manifest",
        ["check", "--all", "-o", "json={repo}/apps/new.yaml"],
        2,
        ("apps/new.yaml", "YAML file in the repository"),
        setup=write("apps/new.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\n"),
    ),
    Case("check-report-new-yaml", ["check", "--all", "-o", "junit={repo}/report.yml"], 2, ("report.yml", "YAML")),
    Case("check-base-and-all", ["check", "--all", "--base", "main"], 2, ("exactly one of --base",)),
    Case("check-bad-shard", ["check", "--all", "--shard", "3/2"], 2, ("--shard",)),
    Case("check-bad-k8s", ["check", "--all", "--kubernetes-version", "9.99"], 2, ("9.99",)),
    Case("check-missing-schema-dir", ["check", "--all", "--schema-dir", "nope"], 2, ("--schema-dir nope",)),
    Case("images-missing-path", ["images", "nope"], 2, ("'nope'", "does not exist"), cwd_repo=True),
    Case(
        "promote-backwards",
        ["promote", "--app", "checkout-api", "--from", "prod", "--to", "dev", "--dry-run"],
        2,
        ("--to dev", "rollback"),
    ),
]

# ---- configuration -----------------------------------------------------------------------------
CONFIGS = [
    Case("config-not-yaml", BUMP_API, 2, (".promoter.yaml:", "does not parse"), config_with("environments: [\n")),
    Case(
        "config-duplicate-key",
        BUMP_API,
        2,
        (".promoter.yaml:4", "duplicate key environments"),
        config_with(MINIMAL + "environments: []\n"),
    ),
    Case(
        "config-alias-bomb",
        BUMP_API,
        2,
        (".promoter.yaml:", "alias bomb", "limits.yaml_alias_nodes"),
        append(CONFIG, "x-bomb:\n" + billion_laughs("  ")),
    ),
    Case(
        "config-recursive-alias",
        BUMP_API,
        2,
        (".promoter.yaml:", "recursive alias"),
        append(CONFIG, "x-loop: &loop {again: *loop}\n"),
    ),
    Case("config-list", BUMP_API, 2, (".promoter.yaml:1", "must be a mapping"), config_with("- a\n- b\n")),
    Case("config-unknown-key", BUMP_API, 2, (".promoter.yaml:", "unknown key 'colour'"), append(CONFIG, "colour: 1\n")),
    Case(
        "template-attribute",
        BUMP_API,
        2,
        (f".promoter.yaml:{PATH_LINE}", "defaults.path", "{app.__class__}", "only {app} and {env}"),
        replace(CONFIG, "path: apps/{app}/overlays/{env}", "path: apps/{app.__class__}/{env}"),
    ),
    Case(
        "template-index",
        BUMP_API,
        2,
        ("defaults.path", "{0}"),
        replace(CONFIG, "path: apps/{app}/overlays/{env}", "path: apps/{0}/{env}"),
    ),
    Case(
        "template-conversion",
        BUMP_API,
        2,
        ("defaults.path", "{app!r}"),
        replace(CONFIG, "path: apps/{app}/overlays/{env}", "path: apps/{app!r}/{env}"),
    ),
    Case(
        "template-unbalanced",
        BUMP_API,
        2,
        ("defaults.path", "bad path template"),
        replace(CONFIG, "path: apps/{app}/overlays/{env}", "path: apps/{app/{env}"),
    ),
    Case(
        "branch-template-attribute",
        BUMP_API,
        2,
        ("forge.branch_template", "bad branch template", "{env.__init__}"),
        replace(CONFIG, "  base_branch: main", "  base_branch: main\n  branch_template: p/{env.__init__}"),
    ),
    Case(
        "forge-deadline-zero",
        BUMP_API,
        2,
        ("forge.timeout_seconds", "0"),
        replace(CONFIG, "  base_branch: main", "  base_branch: main\n  timeout_seconds: 0"),
    ),
    Case(
        "config-image-with-tag",
        BUMP_API,
        2,
        ("apps.web.image", "without tag or digest"),
        replace(CONFIG, "image: ghcr.io/acme/web\n", "image: ghcr.io/acme/web:1\n"),
    ),
    Case(
        "config-unknown-env-in-paths",
        BUMP_API,
        2,
        ("apps.web.paths.qa", "unknown environment 'qa'"),
        replace(CONFIG, "      dev: apps/web/env/values-dev.yaml", "      qa: apps/web/env/values-dev.yaml"),
    ),
    Case("config-two-documents", BUMP_API, 2, ("exactly one YAML document",), config_with(MINIMAL + "---\n" + MINIMAL)),
    Case(
        "limits-negative",
        BUMP_API,
        2,
        ("limits.yaml_alias_nodes", "-1"),
        append(CONFIG, "limits:\n  yaml_alias_nodes: -1\n"),
    ),
    Case("gate-bad-soak", BUMP_API, 2, ("soak",), replace(CONFIG, "soak: 1h", "soak: banana")),
    Case(
        "config-fifo",
        BUMP_API,
        2,
        (".promoter.yaml", "named pipe"),
        both(lambda r: (r / CONFIG).unlink(), fifo(CONFIG)),
    ),
    Case("config-symlink-loop", BUMP_API, 2, (": .promoter.yaml: is a symlink that loops",), loop(CONFIG)),
    Case("config-not-utf8", BUMP_API, 2, (".promoter.yaml", "not UTF-8"), config_with(b"environments: [\xff]\n")),
    Case(
        "config-too-large",
        BUMP_API,
        2,
        (".promoter.yaml", "MiB", "limits.file_size_mib"),
        append(CONFIG, "# " + "x" * (33 * 1024 * 1024) + "\n"),
    ),
]

# ---- YAML of the files in scope ---------------------------------------------------------------
YAML = [
    Case(
        "values-alias-bomb",
        BUMP_WEB,
        2,
        (f"{DEV_VALUES}:", "alias bomb"),
        append(DEV_VALUES, billion_laughs()),
    ),
    Case(
        "overlay-recursive-alias",
        BUMP_API,
        2,
        (f"{DEV_KUST}:", "recursive alias"),
        append(DEV_KUST, "x-loop: &loop [1, *loop]\n"),
    ),
    Case("overlay-not-yaml", BUMP_API, 2, (f"{DEV_KUST}:", "does not parse"), append(DEV_KUST, "images: [\n")),
    Case("overlay-duplicate-key", BUMP_API, 2, (f"{DEV_KUST}:", "duplicate key"), append(DEV_KUST, "namespace: x\n")),
    Case("values-not-utf8", BUMP_WEB, 2, (DEV_VALUES, "not UTF-8"), write(DEV_VALUES, b"image:\n  tag: \xff\n")),
    Case(
        "values-deep-nesting",
        BUMP_WEB,
        2,
        (DEV_VALUES, "nests too deep"),
        write(DEV_VALUES, "image:\n" + "".join("  " * i + "a:\n" for i in range(1, 3000))),
    ),
    Case(
        "values-flow-nesting",
        BUMP_WEB,
        2,
        (DEV_VALUES,),
        write(DEV_VALUES, "image: " + "[" * 20000 + "\n"),
    ),
    Case(
        "configured-alias-budget",
        BUMP_WEB,
        2,
        (f"{DEV_VALUES}:", "more than the 10 promoter walks"),
        both(
            append(CONFIG, "limits:\n  yaml_alias_nodes: 10\n"),
            append(DEV_VALUES, "base: &b [1, 2, 3, 4, 5]\nx: [*b, *b, *b]\n"),
        ),
    ),
    Case(
        "configured-file-size",
        BUMP_WEB,
        2,
        (DEV_VALUES, "more than the 1 MiB"),
        both(append(CONFIG, "limits:\n  file_size_mib: 1\n"), append(DEV_VALUES, "# " + "y" * 1_100_000 + "\n")),
    ),
    Case(
        "target-is-merge-key",
        BUMP_WEB,
        2,
        (f"{DEV_VALUES}:", "merge key"),
        both(
            write(DEV_VALUES, "defaults: &d\n  repository: acme/web\n  tag: '2.8.0'\nimage:\n  <<: *d\n"),
            replace(
                CONFIG,
                "      prod: apps/web/env/values-prod.yaml\n",
                "      prod: apps/web/env/values-prod.yaml\n    targets:\n      dev:\n"
                "        - {file: apps/web/env/values-dev.yaml, key: image.tag}\n",
            ),
        ),
    ),
    Case(
        "images-skips-a-bomb",
        ["images", "apps/web"],
        0,
        (f"skipped {DEV_VALUES}:", "alias bomb"),
        append(DEV_VALUES, billion_laughs()),
        warning=True,
        cwd_repo=True,
    ),
]

# ---- the file system --------------------------------------------------------------------------
FILESYSTEM = [
    Case("scope-symlink-loop", BUMP_API, 2, (f"{DEV_OVERLAY}/loop.yaml", "loops"), loop(f"{DEV_OVERLAY}/loop.yaml")),
    Case(
        "path-symlink-loop",
        ["bump", "--path", "apps/x", "--image", f"{API}:1.5.0"],
        2,
        ("'apps/x'", "loops"),
        loop("apps/x"),
    ),
    Case(
        "scope-fifo-skipped",
        [*BUMP_API, "--dry-run"],
        0,
        (f"skipped {DEV_OVERLAY}/pipe.yaml", "named pipe"),
        fifo(f"{DEV_OVERLAY}/pipe.yaml"),
        warning=True,
    ),
    Case(
        "images-fifo-skipped",
        ["images", "apps/checkout-api"],
        0,
        (f"skipped {DEV_OVERLAY}/pipe.yaml", "named pipe"),
        fifo(f"{DEV_OVERLAY}/pipe.yaml"),
        warning=True,
        cwd_repo=True,
    ),
    Case(
        "target-fifo",
        BUMP_WEB,
        2,
        (DEV_VALUES, "named pipe"),
        both(lambda r: (r / DEV_VALUES).unlink(), fifo(DEV_VALUES)),
    ),
    Case(
        "chart-values-fifo",
        BUMP_WEB,
        2,
        ("apps/web/chart/values.yaml",),
        both(lambda r: (r / "apps/web/chart/values.yaml").unlink(), fifo("apps/web/chart/values.yaml")),
    ),
    Case("report-to-full-disk", ["check", "--all", "-o", "sarif=/dev/full"], 1, ("sarif report", "No space left")),
    Case(
        "lock-held",
        BUMP_API,
        1,
        ("is locked by", "waited 0 s"),
        append(CONFIG, "limits:\n  lock_wait_seconds: 0\n"),
        hold_lock=True,
    ),
]

# ---- git ---------------------------------------------------------------------------------------
GIT = [
    Case("check-unknown-base", ["check", "--base", "no-such-branch"], 2, ("--base no-such-branch", "no such commit")),
    Case(
        "promote-unknown-ref",
        ["promote", "--app", "checkout-api", "--from", "dev", "--ref", "no-such-ref", "--dry-run"],
        2,
        ("--ref no-such-ref", "no such commit"),
    ),
    Case(
        "ref-looks-like-option",
        ["check", "--base=--output"],
        2,
        ("--base --output", "no such commit"),
    ),
]


def no_git(repo: Path) -> None:
    import shutil

    shutil.rmtree(repo / ".git")


def git_init(repo: Path) -> None:
    import subprocess

    no_git(repo)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)


GIT += [
    Case("check-not-a-repository", ["check", "--base", "main"], 2, ("not inside a git repository",), no_git),
    Case(
        "promote-no-commit-yet",
        ["promote", "--app", "checkout-api", "--from", "dev", "--dry-run"],
        2,
        ("has no commit yet",),
        git_init,
    ),
    Case(
        "promote-corrupt-head",
        ["promote", "--app", "checkout-api", "--from", "dev", "--dry-run"],
        2,
        ("not inside a git repository",),
        write(".git/HEAD", "garbage\n"),
    ),
]

CASES: list[Case] = [*ARGUMENTS, *CONFIGS, *YAML, *FILESYSTEM, *GIT]

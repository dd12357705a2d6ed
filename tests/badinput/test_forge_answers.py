"""The catalogue's forge answers: `bump --pr` through the real CLI against the fake forge's fault switches,
both forges. Each: exit 1 (2 for what the user must fix locally), one line, no traceback, the token
never shown, the local checkout as it was, and nothing half-done on the forge (no branch, no PR)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "forge")]

from fakeforge import FakeForge  # noqa: E402
from forgeworld import REPO, TOKEN  # noqa: E402

from tests.badinput.test_catalogue import snapshot  # noqa: E402
from tests.conftest import EXAMPLES, assert_registry_gate_off, invoke, make_repo  # noqa: E402

READ_ONLY = "ghp_READONLYtoken0123456789abcdefABCD01"
BASE_READ = r"GET .*/branches/main$"
FIND = r"GET .*/(pulls|merge_requests)$"


@dataclass
class ForgeCase:
    id: str
    code: int
    says: tuple[str, ...]
    arrange: Callable[[FakeForge], None] = lambda fake: None
    flags: tuple[str, ...] = ()
    token: str | None = TOKEN
    config: tuple[str, ...] = ()  # more lines of the `forge:` section
    # What differs on GitLab (its own fault, its own words), when anything does.
    gitlab: Callable[[FakeForge], None] | None = None
    gitlab_says: tuple[str, ...] | None = None


HTML = "<!DOCTYPE html><html><head><title>Sign in · Corporate SSO</title></head><body></body></html>"
JSON = "application/json; charset=utf-8"
GRAPHQL = r"POST /api/graphql$"
GITLAB_COMMIT = r"POST .*/repository/commits$"


FORGE_CASES = [
    ForgeCase(
        "unknown-repository", 1, ("acme/missing not found", "forge.repository"), flags=("--forge-repo", "acme/missing")
    ),
    ForgeCase("rejected-token", 1, ("rejected the token",), token="ghp_notAvalidTOKEN0123456789abcdefABCD012"),
    ForgeCase(
        "read-only-token", 1, ("cannot write",), lambda fake: fake.add_token(READ_ONLY, write=False), token=READ_ONLY
    ),
    ForgeCase("missing-base-branch", 1, ("base branch 'release' does not exist",), flags=("--base-branch", "release")),
    ForgeCase(
        "protected-branch",
        1,
        ("protected", "forge.branch_template"),
        lambda fake: setattr(fake.repo(REPO), "protected", ["promoter/*"]),
    ),
    ForgeCase("server-errors", 1, ("kept failing",), lambda fake: fake.fail_next(BASE_READ, status=503, times=50)),
    ForgeCase("dropped-connections", 1, ("cannot reach",), lambda fake: fake.drop_next(BASE_READ, times=50)),
    ForgeCase("refused-404", 1, ("404",), lambda fake: fake.fail_next(FIND, status=404, message="Not Found")),
    ForgeCase("refused-422", 1, ("422",), lambda fake: fake.fail_next(FIND, status=422, message="Validation Failed")),
    # issue 15 review: forge text on several lines is one line; the repository check fails as every call does
    ForgeCase(
        "refusal-text-on-several-lines",
        1,
        ("422 Validation Failed line two",),
        lambda fake: fake.fail_next(FIND, status=422, message="Validation Failed\r\n  line two\n"),
    ),
    ForgeCase(
        "repository-check-unreachable",
        1,
        ("cannot reach GitHub", "while reading repository acme/gitops", "(after 1 retries)"),
        lambda fake: fake.drop_next(r"GET /api/v3/repos/acme/gitops$", times=50),
        flags=("--base-branch", "release"),
        # GitLab names the missing one in its 404: no second request to drop; its branch read instead.
        gitlab=lambda fake: fake.drop_next(r"GET .*/branches/release$", times=50),
        gitlab_says=("cannot reach GitLab", "while reading branch release"),
    ),
    ForgeCase(
        "rate-limit-beyond-budget",
        1,
        ("rate limit", "3600 s", "forge.max_wait_seconds"),
        lambda fake: fake.rate_limit_next(BASE_READ, kind="secondary", status=429, retry_after=3600),
    ),
    ForgeCase("no-token", 2, ("token",), token=None),
    # issue 15: bounded time, answers promoter cannot read, limits that name no wait
    ForgeCase(
        "forge-never-answers",
        1,
        ("timed out after", "while reading branch main", "forge.timeout_seconds = 2"),
        lambda fake: fake.hang_next(BASE_READ, times=50),
        config=("timeout_seconds: 2",),
    ),
    ForgeCase(
        "html-instead-of-json",
        1,
        ("unexpected answer from", "while reading branch main", "an HTML page: 'Sign in · Corporate SSO'", "forge.url"),
        lambda fake: fake.answer_next(BASE_READ, HTML),
    ),
    ForgeCase(
        "json-of-another-shape",
        1,
        ("unexpected answer from", "while reading branch main", "JSON without the field 'commit'"),
        lambda fake: fake.answer_next(BASE_READ, {"name": "main"}, content_type=JSON),
    ),
    ForgeCase(
        "commit-id-that-is-a-path",
        1,
        ("unexpected answer from", "a commit id that is none", "../../x"),
        lambda fake: fake.answer_next(
            BASE_READ, {"commit": {"sha": "../../x", "commit": {"tree": {"sha": "t"}}}}, content_type=JSON
        ),
        gitlab=lambda fake: fake.answer_next(BASE_READ, {"commit": {"id": "../../x"}}, content_type=JSON),
    ),
    ForgeCase(
        "proxy-error-pages",
        1,
        ("kept failing while reading branch main", "502", "an HTML page: '502 Bad Gateway'"),
        lambda fake: fake.answer_next(
            BASE_READ, "<html><head><title>502 Bad Gateway</title></head></html>", status=502, times=50
        ),
    ),
    ForgeCase(
        "secondary-limit-beyond-deadline",
        1,
        ("rate limit while reading branch main", "asks to wait 60 s", "forge.timeout_seconds = 30", "run again after"),
        lambda fake: fake.rate_limit_next(BASE_READ, kind="secondary", retry_after=None),
        config=("timeout_seconds: 30",),
        gitlab=lambda fake: fake.fail_next(BASE_READ, status=429, message="Retry later"),
    ),
    ForgeCase(
        "rate-limit-on-the-commit-beyond-deadline",
        1,
        ("rate limit while committing to promoter/dev/checkout-api", "asks to wait 60 s", "run again after"),
        lambda fake: fake.rate_limit_next(GRAPHQL, kind="graphql", retry_after=None),
        config=("timeout_seconds: 30",),
        gitlab=lambda fake: fake.fail_next(GITLAB_COMMIT, status=429, message="Retry later"),
    ),
]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    out = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    # The example switches the registry gate off (its images are made up); one retry, so failures come fast.
    assert_registry_gate_off(out[".promoter.yaml"])
    out[".promoter.yaml"] = out[".promoter.yaml"].replace(
        "  base_branch: main\n", "  base_branch: main\n  max_retries: 1\n"
    )
    return out


@pytest.mark.parametrize("kind", ["github", "gitlab"])
@pytest.mark.parametrize("case", FORGE_CASES, ids=lambda c: c.id)
def test_forge_answer(case: ForgeCase, kind: str, files: dict[str, str], tmp_path: Path) -> None:
    if kind == "gitlab" and case.id == "rate-limit-beyond-budget":
        case = ForgeCase(
            case.id,
            1,
            ("rate limit", "3600 s"),
            lambda fake: fake.rate_limit_next(BASE_READ, kind="gitlab", retry_after=3600),
        )
    arrange = case.gitlab if kind == "gitlab" and case.gitlab else case.arrange
    says = case.gitlab_says if kind == "gitlab" and case.gitlab_says else case.says
    if case.config:
        files = {
            **files,
            ".promoter.yaml": files[".promoter.yaml"].replace(
                "  max_retries: 1\n", "  max_retries: 1\n" + "".join(f"  {line}\n" for line in case.config)
            ),
        }
    fake = FakeForge(tmp_path / "forge")
    try:
        fake.add_token(TOKEN, "promoter-bot")
        local = make_repo(tmp_path / "local", files)
        fake.create_repo(REPO, source=local)
        arrange(fake)
        url = fake.github_url if kind == "github" else fake.gitlab_url
        env = {"GITHUB_TOKEN": None, "GITLAB_TOKEN": None, "CI_JOB_TOKEN": None}
        if case.token is not None:
            env["GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN"] = case.token
        before = snapshot(local)
        flags = {"--forge-repo": REPO}
        rest = list(case.flags)
        for i in range(0, len(rest), 2):
            flags[rest[i]] = rest[i + 1]
        r = invoke(
            "bump",
            "--repo",
            str(local),
            "--app",
            "checkout-api",
            "--env",
            "dev",
            "--image",
            "ghcr.io/acme/checkout-api:1.5.0@sha256:" + "1" * 64,
            "--pr",
            "--forge",
            kind,
            "--forge-url",
            url,
            *(x for kv in flags.items() for x in kv),
            env=env,  # type: ignore[arg-type]
        )
        assert "Traceback" not in r.stderr + r.stdout
        lines = [line for line in r.stderr.splitlines() if line.startswith("promoter:")]
        assert r.exit_code == case.code, r.stderr
        errors = [line for line in lines if line.startswith("promoter: error: ")]
        assert len(errors) == 1, r.stderr
        for fragment in says:
            assert fragment in errors[0], errors[0]
        for secret in (TOKEN, READ_ONLY):
            assert secret not in r.stderr + r.stdout
        assert snapshot(local) == before
        if case.id != "unknown-repository":
            assert fake.repo(REPO).store.branches() == ["main"], "a branch was left behind"
            assert not fake.repo(REPO).pulls
    finally:
        fake.close()
        shutil.rmtree(tmp_path / "forge", ignore_errors=True)

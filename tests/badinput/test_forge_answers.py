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
from tests.conftest import EXAMPLES, invoke, make_repo  # noqa: E402

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
    ForgeCase(
        "rate-limit-beyond-budget",
        1,
        ("rate limit", "3600 s", "forge.max_wait_seconds"),
        lambda fake: fake.rate_limit_next(BASE_READ, kind="secondary", status=429, retry_after=3600),
    ),
    ForgeCase("no-token", 2, ("token",), token=None),
]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    out = {p.relative_to(EXAMPLES).as_posix(): p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()}
    # Registry gate off (the example's images are fictional); one retry, so failures come fast.
    out[".promoter.yaml"] = (
        out[".promoter.yaml"]
        .replace("  - name: dev\n", "  - name: dev\n    gates: {image_exists: false}\n")
        .replace("  base_branch: main\n", "  base_branch: main\n  max_retries: 1\n")
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
    fake = FakeForge(tmp_path / "forge")
    try:
        fake.add_token(TOKEN, "promoter-bot")
        local = make_repo(tmp_path / "local", files)
        fake.create_repo(REPO, source=local)
        case.arrange(fake)
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
        for fragment in case.says:
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

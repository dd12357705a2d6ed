"""World: a local GitOps checkout and the fake forge holding the same history, plus a tiny planner."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TESTS))
# The shared helpers of tests/conftest.py, loaded under their own name (two modules called
# "conftest" cannot both be imported by name).
_spec = importlib.util.spec_from_file_location("promoter_tests_conftest", _TESTS / "conftest.py")
assert _spec and _spec.loader
_shared = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _shared
_spec.loader.exec_module(_shared)
git, make_repo, invoke = _shared.git, _shared.make_repo, _shared.invoke
registry_gate_off = _shared.registry_gate_off

from fakeforge import FakeForge

from promoter.model.changeset import Change, ChangeSet, FileChange
from promoter.model.image import ImageRef
from promoter.publish.forge.settings import ForgeSettings
from promoter.publish.publisher import PromotionRequest

TOKEN = "ghp_FAKEtoken0123456789abcdefABCDEF0123"
REPO = "acme/gitops"
DIGEST_A = "sha256:" + "3f2a9c" + "a" * 58
DIGEST_B = "sha256:" + "b7c1d0" + "b" * 58
DIGEST_C = "sha256:" + "c0ffee" + "c" * 58
IMAGE_OLD = "ghcr.io/acme/checkout-api:1.4.1"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout-api
spec:
  template:
    spec:
      containers:
        - name: api
          # pinned by promoter
          image: ghcr.io/acme/checkout-api:1.4.1
"""
CART = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: cart
          image: "ghcr.io/acme/cart:2.0.0"
"""
FILES = {
    "apps/checkout-api/dev/deployment.yaml": DEPLOY,
    "apps/checkout-api/prod/deployment.yaml": DEPLOY,
    "apps/cart/dev/deployment.yaml": CART,
    "README.md": "# gitops\n",
}


def image(tag: str = "1.4.2", digest: str = DIGEST_A, repo: str = "ghcr.io/acme/checkout-api") -> ImageRef:
    return ImageRef.parse(f"{repo}:{tag}@{digest}")


def plan(img: ImageRef, paths: list[str], read_file: Callable[[str], str | None]) -> ChangeSet:
    """A tiny stand-in for the bump core: rewrite `image:` values of img's repository, byte-exact."""
    cs = ChangeSet()
    pattern = re.compile(
        r'^(\s*(?:- )?image:\s*)("?)(' + re.escape(img.name) + r'[^\s"]*)("?)(?=[ \t]*\r?$)',
        re.MULTILINE,
    )
    for path in paths:
        text = read_file(path)
        if text is None:
            continue
        new_text = text
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            cs.changes.append(
                Change(
                    path,
                    line,
                    "spec.template.spec.containers[0].image",
                    "container",
                    m.group(3),
                    str(img),
                )
            )
        new_text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{img}{m.group(4)}", text)
        cs.files[path] = FileChange(path, text, new_text)
    return cs


@dataclass
class World:
    """A local checkout and the fake forge holding the same history."""

    fake: FakeForge
    local: Path
    kind: str
    sleeps: list[float] = field(default_factory=list)

    @property
    def store(self):
        return self.fake.repo(REPO).store

    def settings(self, **kw: object) -> ForgeSettings:
        base: dict[str, object] = {
            "type": self.kind,
            "url": self.fake.github_url if self.kind == "github" else self.fake.gitlab_url,
            "repository": REPO,
            "token": TOKEN,
            "max_retries": 3,
            "max_wait_seconds": 120.0,
            "timeout": 5.0,
            "backoff": 0.01,
            "sleep": self.sleeps.append,  # record, do not wait
        }
        base.update(kw)
        return ForgeSettings(**base)  # type: ignore[arg-type]

    def request(
        self,
        img: ImageRef | None = None,
        *,
        app: str = "checkout-api",
        env: str = "dev",
        local: bool = True,
        **kw: object,
    ) -> PromotionRequest:
        img = img or image()
        paths = [f"apps/{app}/{env}/deployment.yaml"]

        def local_read(p):
            return (self.local / p).read_bytes().decode() if (self.local / p).exists() else None

        settings = kw.pop("settings", None) or self.settings()
        return PromotionRequest(
            settings=settings,  # type: ignore[arg-type]
            env=env,
            image=img,
            apps=[app],
            changeset=plan(img, paths, local_read),
            replan=lambda read: plan(img, paths, read),
            repo=self.local if local else None,
            **kw,  # type: ignore[arg-type]
        )

    def show(self, ref: str, path: str) -> str:
        return git(self.store.path, "show", f"{ref}:{path}")

    def requests(self) -> list[str]:
        return [str(r) for r in self.fake.log]

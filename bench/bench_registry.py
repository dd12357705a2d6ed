"""Benchmark: what the image_exists gate costs, against a real registry (Debian's docker-registry, distribution 2.8).

Usage: python bench/bench_registry.py [--repeat 20]
Starts the registry on 127.0.0.1 twice (htpasswd Basic auth; token auth with a test token
service), pushes a two-platform index, then measures in this one run:
  - one verification (tag + digest + platforms) with a fresh client: wall time and HTTP requests;
  - the anchor: one bare authenticated HEAD of the manifest with `requests` (the least any check costs);
  - `promoter bump --dry-run` end to end with the gate on and off (the gate's share of a bump).
Loopback only: a real registry adds its network round trip (tens of ms) to each request counted here.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "registry"))
sys.path.insert(0, str(ROOT))

from realregistry import ISSUER, SERVICE, Pusher, RegistryServer, SigningKey, TokenServer, htpasswd  # noqa: E402

from promoter.model.image import ImageRef  # noqa: E402
from promoter.registry.client import Deadline, RegistryClient  # noqa: E402
from promoter.registry.credentials import find_credentials  # noqa: E402
from promoter.registry.endpoint import endpoint_for  # noqa: E402
from promoter.registry.manifest import ACCEPT, Platform  # noqa: E402
from promoter.registry.settings import registry_settings  # noqa: E402
from promoter.registry.verification import verify_image  # noqa: E402

USER, PASSWORD = "bench", "bench-password-1"
PLATFORMS = ["linux/amd64", "linux/arm64"]


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def verify_once(host: str, image: str) -> tuple[float, int]:
    ref = ImageRef.parse(image)
    settings = registry_settings({host: {"username": USER, "password_env": "BENCH_PW"}}, host)
    start = time.perf_counter()
    ep = endpoint_for(ref, settings)
    client = RegistryClient(ep, find_credentials(ep.registry, settings, {"BENCH_PW": PASSWORD}), Deadline(60))
    result = verify_image(client, ref, [Platform.parse(p) for p in PLATFORMS])
    wall = time.perf_counter() - start
    client.close()
    assert result.problem is None and result.facts is not None, result.problem
    return wall, client.requests_made


def bare_head(url: str, headers: dict[str, str]) -> float:
    import requests

    start = time.perf_counter()
    r = requests.head(url, headers={**headers, "Accept": ACCEPT}, timeout=10)
    wall = time.perf_counter() - start
    assert r.status_code == 200, r.status_code
    return wall


GATE_SETS = {
    "no gate": "{image_exists: false}",
    "digest_required only (what any gate pays: Git history for its location)": "{image_exists: false, digest_required: true}",
    "image_exists only": "{image_exists: true}",
}


def bump(repo: Path, image: str, gates: str) -> float:
    cfg = repo / ".promoter.yaml"
    lines = cfg.read_text().splitlines(keepends=True)
    cfg.write_text("".join(f"    gates: {gates}\n" if line.startswith("    gates:") else line for line in lines))
    cmd = [
        sys.executable,
        "-m",
        "promoter",
        "bump",
        "--repo",
        str(repo),
        "--app",
        "api",
        "--env",
        "dev",
        "--image",
        image,
        "--dry-run",
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "BENCH_PW": PASSWORD}, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: bump failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    atexit.register(shutil.rmtree, tmp, True)  # registry storage of every run: gone at exit
    signer = SigningKey.make()
    (tmp / "signer.pem").write_bytes(signer.cert_pem)
    tokens = TokenServer(signer, {USER: PASSWORD}).start()
    (tmp / "basic").mkdir()
    (tmp / "token").mkdir()
    basic = RegistryServer(
        tmp / "basic", auth={"htpasswd": {"realm": "bench", "path": str(htpasswd(tmp / "htpasswd", {USER: PASSWORD}))}}
    )
    token = RegistryServer(
        tmp / "token",
        auth={
            "token": {
                "realm": tokens.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(tmp / "signer.pem"),
            }
        },
    )
    try:
        basic.start()
        token.start()
        rows = []
        for name, server, pusher in (
            ("basic", basic, Pusher(basic.url, basic=(USER, PASSWORD))),
            ("token", token, Pusher(token.url, tokens=tokens, user=USER)),
        ):
            pushed = pusher.index(
                "acme/api", "1.0.0", PLATFORMS, labels={"org.opencontainers.image.revision": "a" * 40}
            )
            image = f"{server.host}/acme/api:1.0.0@{pushed.digest}"
            runs = [verify_once(server.host, image) for _ in range(args.repeat)]
            if name == "basic":
                auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
            else:
                access = [{"type": "repository", "name": "acme/api", "actions": ["pull"]}]
                auth = {"Authorization": "Bearer " + tokens.sign(USER, access)}
            heads = [bare_head(f"{server.url}/v2/acme/api/manifests/{pushed.digest}", auth) for _ in range(args.repeat)]
            verify = [w for w, _ in runs]
            rows.append(
                (
                    name,
                    median_ms(verify),
                    runs[0][1],
                    median_ms(heads),
                    statistics.median(verify) / statistics.median(heads),
                )
            )
            if name == "token":
                repo = tmp / "gitops"
                (repo / "apps/api/dev").mkdir(parents=True)
                (repo / ".promoter.yaml").write_text(
                    "environments:\n  - name: dev\n    gates: {}\n"
                    f"apps:\n  api:\n    image: {server.host}/acme/api\n    path: apps/{{app}}/{{env}}\n"
                    f"registries:\n  {server.host}:\n    username: {USER}\n    password_env: BENCH_PW\n"
                )
                (repo / "apps/api/dev/kustomization.yaml").write_text(
                    f'images:\n  - name: {server.host}/acme/api\n    newTag: "0.9"\n'
                )
                subprocess.run(["git", "init", "-q", str(repo)], check=True)
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(repo),
                        "-c",
                        "user.name=b",
                        "-c",
                        "user.email=b@b",
                        "commit",
                        "-q",
                        "--allow-empty",
                        "-m",
                        "init",
                    ],
                    check=True,
                )
                bumps: dict[str, list[float]] = {k: [] for k in GATE_SETS}
                for _ in range(max(3, args.repeat // 2)):  # interleaved: the machine's drift hits all three alike
                    for k, v in GATE_SETS.items():
                        bumps[k].append(bump(repo, image, v))
        print(
            f"registry: docker-registry ({subprocess.run(['docker-registry', '--version'], capture_output=True, text=True).stdout.strip()}), "
            f"{args.repeat} runs each, medians"
        )
        print("| auth | one verification (fresh client) | HTTP requests | bare HEAD (anchor) | ratio |")
        print("|---|---|---|---|---|")
        for name, v, n, h, ratio in rows:
            print(f"| {name} | {v} | {n} | {h} | {ratio:.1f}× |")
        print("| `promoter bump --dry-run` (token registry), gates | wall |")
        print("|---|---|")
        for k, v in bumps.items():
            print(f"| {k} | {median_ms(v)} |")
    finally:
        basic.stop()
        token.stop()
        tokens.stop()


if __name__ == "__main__":
    main()

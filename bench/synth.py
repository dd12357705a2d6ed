"""Synthetic GitOps repository: N apps × dev/stage/prod Kustomize overlays over a six-resource base, as a git repo.

Usage: python bench/synth.py DIR [--apps 600] [--no-git] [--commits N]
Each app: base/{deployment,service,configmap,serviceaccount,hpa,pdb}.yaml and overlays/{dev,stage,prod}
(prod adds a replicas patch). A `.promoter.yaml` lists every app. Deterministic: same N, same bytes.
`--commits N` writes the repository with a history of N commits instead (see `generate_history`).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
from pathlib import Path

ENVS = ("dev", "stage", "prod")
DIGEST = "sha256:" + "ab" * 32


def base_files(app: str) -> dict[str, str]:
    labels = f"app.kubernetes.io/name: {app}"
    return {
        "kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
            "  - deployment.yaml\n  - service.yaml\n  - configmap.yaml\n  - serviceaccount.yaml\n  - hpa.yaml\n  - pdb.yaml\n"
        ),
        "deployment.yaml": f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    {labels}
spec:
  replicas: 2
  selector:
    matchLabels:
      {labels}
  template:
    metadata:
      labels:
        {labels}
    spec:
      serviceAccountName: {app}
      securityContext:
        runAsNonRoot: true
      containers:
        - name: app
          image: ghcr.io/acme/{app}:0.0.0
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: {app}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
""",
        "service.yaml": f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  selector:\n    {labels}\n"
        "  ports:\n    - name: http\n      port: 80\n      targetPort: http\n",
        "configmap.yaml": f'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\ndata:\n  LOG_LEVEL: info\n  PORT: "8080"\n',
        "serviceaccount.yaml": f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n",
        "hpa.yaml": f"""\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {app}}}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 80}}}}
""",
        "pdb.yaml": f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {app}\nspec:\n  minAvailable: 1\n"
        f"  selector:\n    matchLabels:\n      {labels}\n",
    }


def overlay_files(app: str, env: str, tag: str = "1.0.0", digest: str = DIGEST, comment: str = "") -> dict[str, str]:
    k = (
        f"{comment}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {app}-{env}\nresources:\n  - ../../base\n"
        f'images:\n  - name: ghcr.io/acme/{app}\n    newTag: "{tag}"\n    digest: {digest}\n'
    )
    files = {"kustomization.yaml": k}
    if env == "prod":
        files["kustomization.yaml"] += "patches:\n  - path: replicas.yaml\n"
        files["replicas.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n  replicas: 4\n"
        )
    return files


def app_name(i: int) -> str:
    return f"app{i:04d}"


def generate(root: Path, apps: int, *, git: bool = True) -> Path:
    """Write the repository under `root` (created) and commit it on branch main when `git`."""
    root.mkdir(parents=True, exist_ok=True)
    config = [
        "version: 1",
        "environments:",
        *(f"  - name: {e}" for e in ENVS),
        "defaults:",
        "  path: apps/{app}/overlays/{env}",
        "apps:",
    ]
    for i in range(apps):
        app = app_name(i)
        config.append(f"  {app}:\n    image: ghcr.io/acme/{app}")
        for name, text in base_files(app).items():
            _write(root / "apps" / app / "base" / name, text)
        for env in ENVS:
            for name, text in overlay_files(app, env).items():
                _write(root / "apps" / app / "overlays" / env / name, text)
    _write(root / ".promoter.yaml", "\n".join(config) + "\n")
    if git:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
        for args in (
            ["init", "-q", "-b", "main"],
            ["config", "commit.gpgsign", "false"],
            ["add", "-A"],
            ["commit", "-q", "-m", f"synthetic repository: {apps} apps"],
        ):
            subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


HISTORY_GATES = {
    "stage": "{promotion_order: true, soak: 1h, image_exists: false}",
    "prod": "{promotion_order: true, soak: 24h, no_downgrade: true, digest_required: true, image_exists: false}",
}
HISTORY_START = 1_700_000_000  # commit times: one commit every 10 minutes from here


def history_config(apps: int) -> str:
    """A `.promoter.yaml` for `generate_history`: every app, gates on stage and prod (no registry gate)."""
    lines = ["version: 1", "environments:"]
    for e in ENVS:
        lines.append(f"  - name: {e}")
        lines.append(f"    gates: {HISTORY_GATES.get(e, '{image_exists: false}')}")
    lines += ["defaults:", "  path: apps/{app}/overlays/{env}", "apps:"]
    lines += [f"  {app_name(i)}:\n    image: ghcr.io/acme/{app_name(i)}" for i in range(apps)]
    return "\n".join(lines) + "\n"


def version_digest(app: int, version: int) -> str:
    return f"sha256:{app:032x}{version:032x}"


def generate_history(root: Path, apps: int, commits: int, *, seed: int = 18) -> Path:
    """A GitOps repository whose branch main has `commits` commits (written with `git fast-import`).

    The first commit holds every app at 1.0.0 in dev, stage and prod; each later one, 10 minutes
    apart, is chosen at random (seeded: same arguments, same commits):
      - 55% a promotion: dev gets the app's next build (tag 1.N.0, its own digest); stage or prod
        take what the environment before them runs;
      - 15% the same, as a pull request: a branch commit an hour older, merged with a merge commit
        (history is read first-parent, a merge diffed against its first parent, so soak counts
        from the merge); both commits count;
      - 10% a change to an app's base (replicas), outside every environment's folder;
      - 10% a comment added to an overlay's kustomization.yaml (a new version, the same state);
      - 10% a batch: three apps promoted in one commit.
    Returns the repository's folder; `HEAD` is main, checked out.
    """
    rng = random.Random(seed)
    runs = {(a, e): 0 for a in range(apps) for e in ENVS}  # (app, env) -> version running there
    latest = [0] * apps
    stream: list[str] = []
    mark = 0
    main_mark = 0
    when = HISTORY_START

    def commit(files: dict[str, str], message: str, *, branch: bool = False, merge: int = 0, at: int = 0) -> int:
        nonlocal mark
        mark += 1
        ref = "refs/heads/pr" if branch else "refs/heads/main"
        stream.append(f"commit {ref}\nmark :{mark}\ncommitter Bench <b@example.com> {at or when} +0000\n")
        stream.append(f"data {len(message)}\n{message}\n")
        if main_mark:
            stream.append(f"from :{main_mark}\n")
        if merge:
            stream.append(f"merge :{merge}\n")
        for path, text in files.items():
            stream.append(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")
        return mark

    def overlay(a: int, env: str, version: int, comment: str = "") -> dict[str, str]:
        name = app_name(a)
        text = overlay_files(name, env, f"1.{version}.0", version_digest(a, version), comment)["kustomization.yaml"]
        return {f"apps/{name}/overlays/{env}/kustomization.yaml": text}

    def promotion(a: int) -> dict[str, str]:
        env = rng.choice(ENVS)
        if env == "dev":
            latest[a] += 1
            version = latest[a]
        else:
            version = runs[(a, ENVS[ENVS.index(env) - 1])]
        runs[(a, env)] = version
        return overlay(a, env, version)

    initial: dict[str, str] = {".promoter.yaml": history_config(apps)}
    for a in range(apps):
        name = app_name(a)
        initial.update({f"apps/{name}/base/{f}": t for f, t in base_files(name).items()})
        for env in ENVS:
            initial.update({f"apps/{name}/overlays/{env}/{f}": t for f, t in overlay_files(name, env).items()})
    main_mark = commit(initial, f"synthetic repository: {apps} apps")
    made = 1
    while made < commits:
        when += 600
        roll = rng.random()
        a = rng.randrange(apps)
        if roll < 0.55:
            main_mark = commit(promotion(a), f"promote {app_name(a)}")
        elif roll < 0.70 and made + 2 <= commits:
            change = promotion(a)
            pr = commit(change, f"promote {app_name(a)} (branch)", branch=True, at=when - 3600)
            main_mark = commit(change, "Merge pull request", merge=pr)  # fast-import: the merge's tree is written out
            made += 1
        elif roll < 0.80:
            name = app_name(a)
            text = base_files(name)["deployment.yaml"].replace("replicas: 2", f"replicas: {rng.randint(2, 9)}")
            main_mark = commit({f"apps/{name}/base/deployment.yaml": text}, f"scale {name}")
        elif roll < 0.90:
            env = rng.choice(ENVS)
            main_mark = commit(overlay(a, env, runs[(a, env)], f"# touched at {when}\n"), f"comment {app_name(a)}")
        else:
            files: dict[str, str] = {}
            for b in rng.sample(range(apps), 3):
                files.update(promotion(b))
            main_mark = commit(files, "batch promotion")
        made += 1
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)
    return root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--no-git", action="store_true")
    ap.add_argument("--commits", type=int, help="write a history of this many commits (see generate_history)")
    args = ap.parse_args()
    if args.commits:
        generate_history(args.dir, args.apps, args.commits)
        print(f"{args.dir}: {args.apps} apps, {args.commits} commits")
        return
    generate(args.dir, args.apps, git=not args.no_git)
    print(f"{args.dir}: {args.apps} apps, {args.apps * len(ENVS)} overlays, {args.apps * 6} base resources")


if __name__ == "__main__":
    main()

"""Synthetic GitOps repository: N apps × dev/stage/prod Kustomize overlays over a six-resource base, as a git repo.

Usage: python bench/synth.py DIR [--apps 600] [--no-git]
Each app: base/{deployment,service,configmap,serviceaccount,hpa,pdb}.yaml and overlays/{dev,stage,prod}
(prod adds a replicas patch). A `.promoter.yaml` lists every app. Deterministic: same N, same bytes.
"""

from __future__ import annotations

import argparse
import os
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


def overlay_files(app: str, env: str) -> dict[str, str]:
    k = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {app}-{env}\nresources:\n  - ../../base\n"
        f'images:\n  - name: ghcr.io/acme/{app}\n    newTag: "1.0.0"\n    digest: {DIGEST}\n'
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


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--apps", type=int, default=600)
    ap.add_argument("--no-git", action="store_true")
    args = ap.parse_args()
    generate(args.dir, args.apps, git=not args.no_git)
    print(f"{args.dir}: {args.apps} apps, {args.apps * len(ENVS)} overlays, {args.apps * 6} base resources")


if __name__ == "__main__":
    main()

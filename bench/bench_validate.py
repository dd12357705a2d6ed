"""Benchmark: built-in validation throughput against kubeconform and the plain `jsonschema` baseline.

Generates N rendered manifest files of six realistic kinds (one invalid file in 50), then times, on
the same files and the same standalone schemas:
  builtin      read + parse (PyYAML C) + validate (cached jsonschema-rs), 1 and --jobs processes
  jsonschema   read + parse + validate with python-jsonschema, one validator built per kind
  kubeconform  `kubeconform -n <jobs>` on the files with promoter's prepared schema folder (when on PATH)
and checks that every backend gives the same verdict for every resource.

    python bench/bench_validate.py --files 1800 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promoter.validate.batch import validate_files  # noqa: E402
from promoter.validate.builtin import validate_resources  # noqa: E402
from promoter.validate.schemas import (  # noqa: E402
    SchemaSource,
    resolve_version,
    write_kubeconform_folder,
)
from promoter.yamlio.manifests import load_manifests  # noqa: E402

KINDS = [
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "Ingress"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
]


def app_yaml(i: int, broken: bool) -> str:
    """One rendered app: what `kustomize build` prints for a typical service (six objects)."""
    name = f"app-{i:04d}"
    ns = f"team-{i % 12}"
    port = '"http"' if broken else "8080"  # containerPort must be an integer
    return f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "checkout,search"
  config.yaml: |
    server:
      port: 8080
      timeout: 30s
    database:
      pool: 10
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/version: 1.4.{i % 10}
  annotations:
    deployment.kubernetes.io/revision: "3"
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: {name}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
      - name: app
        image: ghcr.io/acme/{name}@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        imagePullPolicy: IfNotPresent
        args: ["--port=8080", "--log-format=json"]
        ports:
        - name: http
          containerPort: {port}
          protocol: TCP
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {name}-db
              key: url
        envFrom:
        - configMapRef:
            name: {name}-config
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            memory: 256Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: 5
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /livez
            port: http
          failureThreshold: 3
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir: {{}}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {name}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
  - hosts: [{name}.example.com]
    secretName: {name}-tls
  rules:
  - host: {name}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: {name}
            port:
              name: http
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: 3
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
"""


def generate(folder: Path, files: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(files):
        p = folder / f"app-{i:04d}.yaml"
        p.write_text(app_yaml(i, broken=i % 50 == 7))
        out.append(p)
    return out


def verdicts_builtin(paths: list[Path], source: SchemaSource) -> dict[tuple[str, str], bool]:
    out = {}
    for p in paths:
        resources, _ = load_manifests(p.read_text(), p.name, file=p.name)
        result = validate_resources(resources, source)
        for r, s in zip(resources, result.subjects, strict=False):
            out[(p.name, r.id)] = s.status.value == "passed"
    return out


def run_builtin(paths: list[Path], source: SchemaSource, jobs: int) -> tuple[float, int, int]:
    t = time.perf_counter()
    result = validate_files(paths, source, jobs=jobs)
    wall = time.perf_counter() - t
    invalid = sum(1 for s in result.subjects if s.status.value != "passed")
    return wall, len(result.subjects), invalid


# kubeconform -n 2 on this machine class: 10,800 resources in 1.0 s (shared/reference/kubeconform/README.md).
KUBECONFORM_REFERENCE = 10_800 / 1.0


def _cpu() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_jsonschema(paths: list[Path], source: SchemaSource) -> tuple[float, int, int, dict[tuple[str, str], bool]]:
    import jsonschema
    import yaml

    t = time.perf_counter()
    validators = {}
    verdicts = {}
    n = 0
    for p in paths:
        for obj in yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader):
            key = (obj["apiVersion"], obj["kind"])
            v = validators.get(key)
            if v is None:
                schema = source.lookup(*key).schema
                v = validators[key] = jsonschema.validators.validator_for(schema)(schema)
            meta = obj.get("metadata") or {}
            rid = f"{obj['apiVersion']}/{obj['kind']}/{meta.get('namespace') or '-'}/{meta.get('name', '')}"
            verdicts[(p.name, rid)] = v.is_valid(obj)
            n += 1
    wall = time.perf_counter() - t
    return wall, n, sum(1 for ok in verdicts.values() if not ok), verdicts


def run_kubeconform(
    paths: list[Path], source: SchemaSource, jobs: int, schema_dir: Path
) -> tuple[float, int, int, dict[tuple[str, str], bool]]:
    template, _ = write_kubeconform_folder(schema_dir, source, KINDS)
    args = [
        "kubeconform",
        "-strict",
        "-kubernetes-version",
        source.version.version,
        "-schema-location",
        template,
        "-output",
        "json",
        "-summary",
        "-verbose",
        "-n",
        str(jobs),
        *map(str, paths),
    ]
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t
    data = json.loads(proc.stdout)
    verdicts = {}
    for r in data["resources"]:
        # kubeconform reports name only; every generated name is unique per file and kind.
        verdicts[(Path(r["filename"]).name, r["version"], r["kind"], r["name"])] = r["status"] == "statusValid"
    return wall, len(data["resources"]), sum(1 for ok in verdicts.values() if not ok), verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1800, help="rendered files to generate (6 resources each)")
    ap.add_argument("--jobs", type=int, default=2, help="processes for builtin, -n for kubeconform")
    ap.add_argument("--kubernetes-version", default="1.32.0")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--keep", type=Path, help="write the generated files here instead of a temp folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    folder = args.keep or tmp / "manifests"
    paths = generate(folder, args.files)
    source = SchemaSource(version=resolve_version(args.kubernetes_version), strict=True)
    for key in KINDS:  # warm the per-process schema cache, as a long-running check would
        source.lookup(*key)

    rows = []

    def best(f):
        """Best (shortest wall) of --repeat runs, with the CPU seconds it used (this process + children)."""
        runs = []
        for _ in range(args.repeat):
            c = _cpu()
            r = f()
            runs.append((r, _cpu() - c))
        return min(runs, key=lambda x: x[0][0])

    (wall1, n1, bad1), cpu1 = best(lambda: run_builtin(paths, source, 1))
    rows.append(("builtin (1 process)", wall1, cpu1, n1, bad1))
    (walln, nn, badn), cpun = best(lambda: run_builtin(paths, source, args.jobs))
    rows.append((f"builtin ({args.jobs} processes)", walln, cpun, nn, badn))
    parsed = [r for p in paths for r in load_manifests(p.read_text(), p.name, file=p.name)[0]]
    (only,), cpu_only = best(lambda: (_timed(lambda: validate_resources(parsed, source)),))
    rows.append(("builtin, validation only (parsed)", only, cpu_only, len(parsed), None))
    c = _cpu()
    js_wall, js_n, js_bad, js_verdicts = run_jsonschema(paths, source)
    rows.append(("jsonschema (python, 1 process)", js_wall, _cpu() - c, js_n, js_bad))

    ours = verdicts_builtin(paths, source)
    same_js = ours == js_verdicts
    kc = shutil.which("kubeconform")
    same_kc = None
    if kc:
        (kc_wall, kc_n, kc_bad, kc_verdicts), kc_cpu = best(
            lambda: run_kubeconform(paths, source, args.jobs, tmp / "schemas")
        )
        rows.append((f"kubeconform (-n {args.jobs})", kc_wall, kc_cpu, kc_n, kc_bad))
        ours_by_name = {}
        for (f, rid), ok in ours.items():
            api_version, kind, _ns, name = rid.rsplit("/", 3)
            ours_by_name[(f, api_version, kind, name)] = ok
        same_kc = ours_by_name == kc_verdicts

    ref = walln
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{args.files} files, {nn} resources, Kubernetes {source.version.version}, strict, cpus={os.cpu_count()}, "
        f"best of {args.repeat}, load average at the end {load}"
    )
    print(
        f"{'backend':34} {'wall s':>7} {'cpu s':>7} {'resources/s':>12} {'invalid':>8} {'vs builtin':>11} {'vs kubeconform ref':>19}"
    )
    for name, wall, cpu, n, bad in rows:
        shown_bad = "" if bad is None else bad
        print(
            f"{name:34} {wall:7.3f} {cpu:7.3f} {n / wall:12,.0f} {shown_bad:>8} {wall / ref:10.2f}x "
            f"{n / wall / KUBECONFORM_REFERENCE:18.2f}x"
        )
    print(f"verdicts identical builtin vs jsonschema: {same_js}")
    if kc:
        print(f"verdicts identical builtin vs kubeconform: {same_kc}")
    else:
        print("kubeconform: not on PATH (reference on this machine: 10,800 resources in 1.0 s with -n 2)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same_js and same_kc is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The target graph: which overlays, charts and folders exist, and which a changed file affects."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promoter.config.loader import load_config
from promoter.config.model import Config, Environment
from promoter.flows.check import shard_of
from promoter.model.finding import Location
from promoter.render.graph import (
    Target,
    build_graph,
    declared_chart,
    is_remote,
    matches_env,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


# A diamond: base -> (left, right) -> top; `solo` uses only left; two overlays share one component.
DIAMOND = {
    "base/kustomization.yaml": K + "resources:\n  - cm.yaml\n",
    "base/cm.yaml": cm("base"),
    "left/kustomization.yaml": K + "resources:\n  - ../base\nnameSuffix: -l\n",
    "right/kustomization.yaml": K + "resources:\n  - ../base\n  - extra.yaml\nnameSuffix: -r\n",
    "right/extra.yaml": cm("extra"),
    "top/kustomization.yaml": K + "resources:\n  - ../left\n  - ../right\npatches:\n  - path: patch.yaml\n",
    "top/patch.yaml": cm("base-l"),
    "solo/kustomization.yaml": K + "resources:\n  - ../left\ncomponents:\n  - ../shared\n",
    "other/kustomization.yaml": K + "resources:\n  - own.yaml\ncomponents:\n  - ../shared\n"
    "configMapGenerator:\n  - name: gen\n    files:\n      - key=conf/app.properties\n    envs:\n      - conf/env.txt\n",
    "other/own.yaml": cm("own"),
    "other/conf/app.properties": "a=b\n",
    "other/conf/env.txt": "X=1\n",
    "shared/kustomization.yaml": COMPONENT + "patchesStrategicMerge:\n  - label.yaml\n",
    "shared/label.yaml": cm("own"),
}


def ids(targets: list[Target]) -> list[str]:
    return sorted(t.id for t in targets)


def test_roots_are_the_kustomizations_nothing_else_uses(tree) -> None:
    g = build_graph(tree(DIAMOND))
    assert ids(g.targets) == ["other", "solo", "top"]
    assert {t.kind for t in g.targets} == {"kustomize"}


def test_diamond_base_change_reaches_every_overlay_above_it(tree) -> None:
    g = build_graph(tree(DIAMOND))
    assert ids(g.affected(["base/cm.yaml"])) == ["solo", "top"]
    assert ids(g.affected(["base/kustomization.yaml"])) == ["solo", "top"]


def test_diamond_side_change_reaches_only_its_users(tree) -> None:
    g = build_graph(tree(DIAMOND))
    assert ids(g.affected(["right/extra.yaml"])) == ["top"]
    assert ids(g.affected(["left/kustomization.yaml"])) == ["solo", "top"]
    assert ids(g.affected(["top/patch.yaml"])) == ["top"]


def test_shared_component_and_generator_files(tree) -> None:
    g = build_graph(tree(DIAMOND))
    assert ids(g.affected(["shared/label.yaml"])) == ["other", "solo"]
    assert ids(g.affected(["other/conf/app.properties"])) == ["other"]
    assert ids(g.affected(["other/conf/env.txt"])) == ["other"]


def test_unrelated_and_unreferenced_files_affect_nothing(tree) -> None:
    g = build_graph(tree({**DIAMOND, "top/notes.yaml": cm("notes-not-listed")}))
    assert g.affected(["README.md"]) == []
    assert g.affected(["top/notes.yaml"]) == []  # in an overlay folder but not in its kustomization


def test_a_deleted_or_added_kustomization_of_a_referenced_folder_counts(tree) -> None:
    g = build_graph(tree(DIAMOND))
    # kustomize accepts three file names; replacing one by another changes the build.
    assert ids(g.affected(["right/kustomization.yml"])) == ["top"]
    assert ids(g.affected(["base/Kustomization"])) == ["solo", "top"]


def test_patches_json6902_crds_and_legacy_forms_are_dependencies(tree) -> None:
    files = {
        "app/kustomization.yaml": K
        + "bases:\n  - ../b\npatchesJson6902:\n  - path: j.yaml\n    target: {kind: ConfigMap, name: b}\n"
        "crds:\n  - crd.yaml\nreplacements:\n  - path: repl.yaml\n",
        "app/j.yaml": "- op: add\n  path: /data/c\n  value: d\n",
        "app/crd.yaml": "{}\n",
        "app/repl.yaml": "[]\n",
        "b/kustomization.yaml": K + "resources: [cm.yaml]\n",
        "b/cm.yaml": cm("b"),
    }
    g = build_graph(tree(files))
    assert ids(g.targets) == ["app"]
    for f in ("app/j.yaml", "app/crd.yaml", "app/repl.yaml", "b/cm.yaml"):
        assert ids(g.affected([f])) == ["app"], f


def test_remote_bases_are_recorded_not_followed(tree) -> None:
    files = {
        "o/kustomization.yaml": K + "resources:\n  - https://github.com/acme/x//base?ref=v1\n  - local.yaml\n",
        "o/local.yaml": cm("l"),
    }
    (t,) = build_graph(tree(files)).targets
    assert [r.ref for r in t.remote] == ["https://github.com/acme/x//base?ref=v1"]
    assert t.remote[0].location.file == "o/kustomization.yaml"
    assert is_remote("git::https://example.com/r.git//base") and is_remote("oci://ghcr.io/x/chart")
    assert not is_remote("../base") and not is_remote("deployment.yaml")


def test_a_kustomization_that_does_not_parse_is_a_problem_with_its_line(tree) -> None:
    files = {
        "o/kustomization.yaml": K + "resources:\n  - ../b\n",
        "b/kustomization.yaml": K + "resources: [\n  x.yaml\n",
    }
    (t,) = build_graph(tree(files)).targets
    assert t.id == "o"
    (p,) = t.problems
    assert p.rule == "yaml" and p.location is not None
    assert p.location.file == "b/kustomization.yaml" and p.location.line == 5


def test_plain_folders_hold_manifests_nothing_else_claims(tree) -> None:
    files = {
        "clusters/prod/apps.yaml": cm("a") + "---\n" + cm("b"),
        # apiVersion/kind only nested or in comments: a values file, not a manifest, and alone in its folder
        "clusters/values/values-prod.yaml": "# apiVersion: v1\nrbac:\n  apiVersion: v1\n  kind: Role\n",
        "clusters/prod/.gitlab-ci.yml": "stages: [test]\n",  # a dotfile is never a manifest
        ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
        "o/kustomization.yaml": K + "resources: [cm.yaml]\n",
        "o/cm.yaml": cm("o"),
        "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}'}\n",
    }
    g = build_graph(tree(files))
    by_id = {t.id: t for t in g.targets}
    assert sorted(by_id) == ["chart", "clusters/prod", "o"]
    assert by_id["clusters/prod"].kind == "plain" and by_id["clusters/prod"].files == {"clusters/prod/apps.yaml"}
    # a manifest added to (or deleted from) the folder changes what is checked there
    assert ids(g.affected(["clusters/prod/new.yaml"])) == ["clusters/prod"]
    assert ids(g.affected(["chart/templates/cm.yaml"])) == ["chart"]


def test_every_yaml_file_of_a_manifest_folder_is_read_as_manifests(tree) -> None:
    # As kubectl apply -f DIR and kubeconform read a folder: a values file there is not skipped (it is an
    # error when validated: not a Kubernetes object), unless render.exclude names it.
    from promoter.config.model import Config

    files = {
        "clusters/prod/apps.yaml": cm("a"),
        "clusters/prod/values-prod.yaml": "rbac:\n  apiVersion: v1\n  kind: Role\n",
        "clusters/prod/Kind.yaml": "apiVersion: v1\nKind: ConfigMap\nmetadata: {name: k}\n",
    }
    repo = tree(files)
    (t,) = build_graph(repo).targets
    assert t.manifests == ["clusters/prod/Kind.yaml", "clusters/prod/apps.yaml", "clusters/prod/values-prod.yaml"]
    config = Config.empty()
    config.raw = {"render": {"exclude": ["clusters/*/values-*.yaml"]}}
    (t,) = build_graph(repo, config).targets
    assert t.manifests == ["clusters/prod/Kind.yaml", "clusters/prod/apps.yaml"]


def test_charts_get_one_target_per_environment_values_file(tree) -> None:
    files = {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/values.yaml": "a: 1\n",
        "c/values-production.yaml": "a: 2\n",
        "c/templates/x.yaml": "kind: ConfigMap\n",
        "c/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    }
    g = build_graph(tree(files))
    by_id = {t.id: t for t in g.targets}
    assert sorted(by_id) == ["c", "c@production"]  # the subchart is part of its parent
    assert by_id["c@production"].values == ["c/values-production.yaml"] and by_id["c@production"].env == "production"
    assert ids(g.affected(["c/values-production.yaml"])) == [
        "c",
        "c@production",
    ]  # the chart folder is a dependency of both
    assert ids(g.affected(["c/charts/sub/Chart.yaml"])) == ["c", "c@production"]


def test_example_repository_targets_follow_the_config() -> None:
    config = load_config(EXAMPLES)
    g = build_graph(EXAMPLES, config)
    by_id = {t.id: t for t in g.targets}
    assert sorted(by_id) == [
        "apps/checkout-api/overlays/dev",
        "apps/checkout-api/overlays/prod",
        "apps/checkout-api/overlays/stage",
        "apps/web/chart@dev",
        "apps/web/chart@prod",
        "apps/web/chart@stage",
    ]
    assert by_id["apps/web/chart@stage"].values == ["apps/web/env/values-stage.yaml"]
    assert by_id["apps/checkout-api/overlays/prod"].env == "prod"
    assert ids(g.affected(["apps/web/env/values-dev.yaml"])) == ["apps/web/chart@dev"]
    assert ids(g.affected(["apps/checkout-api/overlays/prod/replicas.yaml"])) == ["apps/checkout-api/overlays/prod"]
    assert len(g.affected([".promoter.yaml"])) == 6  # the config decides validation for everything
    assert [t.id for t in g.targets if matches_env(t, "stage")] == [
        "apps/checkout-api/overlays/stage",
        "apps/web/chart@stage",
    ]


def test_flux_helmrelease_and_argo_application_with_in_repo_charts(tree) -> None:
    files = {
        "charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
        "charts/api/values.yaml": "a: 1\n",
        "charts/api/values-prod.yaml": "a: 3\n",
        "env/prod-values.yaml": "a: 2\n",
        "clusters/prod/release.yaml": (
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: api\n  namespace: shop\nspec:\n"
            "  chart:\n    spec:\n      chart: ./charts/api\n      sourceRef: {kind: GitRepository, name: flux-system}\n"
            "  valuesFiles:\n    - env/prod-values.yaml\n  values:\n    replicas: 2\n---\n"
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: remote\nspec:\n"
            "  chart:\n    spec:\n      chart: podinfo\n      sourceRef: {kind: HelmRepository, name: podinfo}\n"
        ),
        "argo/app.yaml": (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: api-argo\nspec:\n"
            "  source:\n    repoURL: https://example.com/gitops.git\n    path: charts/api\n"
            "    helm:\n      valueFiles: [values-prod.yaml]\n      valuesObject: {b: 1}\n"
            "  destination: {namespace: api}\n"
        ),
    }
    config = Config(file=None, environments=[Environment("dev", 0), Environment("prod", 1)], apps={})
    repo = tree(files)
    g = build_graph(repo, config)
    by_id = {t.id: t for t in g.targets}
    # the declarations are objects of their folders; the charts they render become those folders' dependencies
    assert sorted(by_id) == ["argo", "charts/api", "charts/api@prod", "clusters/prod"]
    assert by_id["clusters/prod"].env == "prod" and "charts/api" in by_id["clusters/prod"].dirs
    assert ids(g.affected(["env/prod-values.yaml"])) == ["clusters/prod"]
    assert ids(g.affected(["charts/api/templates/x.yaml"])) == [
        "argo",
        "charts/api",
        "charts/api@prod",
        "clusters/prod",
    ]
    assert ids(g.affected(["argo/app.yaml"])) == ["argo"]

    docs = list(yaml.safe_load_all(files["clusters/prod/release.yaml"]))
    hr = declared_chart(docs[0], {"charts/api"}, Location("clusters/prod/release.yaml", 1))
    assert hr is not None
    assert (hr.kind, hr.path, hr.values, hr.inline_values, hr.namespace, hr.release) == (
        "helm",
        "charts/api",
        ["env/prod-values.yaml"],
        {"replicas": 2},
        "shop",
        "api",
    )
    assert declared_chart(docs[1], {"charts/api"}, Location("clusters/prod/release.yaml", 16)) is None  # remote
    app = declared_chart(yaml.safe_load(files["argo/app.yaml"]), {"charts/api"}, Location("argo/app.yaml", 1))
    assert app is not None
    assert (app.path, app.values, app.inline_values, app.namespace) == (
        "charts/api",
        ["charts/api/values-prod.yaml"],
        {"b": 1},
        "api",
    )


@settings(max_examples=60, deadline=None)
@given(st.sets(st.text(alphabet="abcdefgh/-@.", min_size=1, max_size=12), max_size=40), st.integers(1, 7))
def test_shards_partition_targets_exactly_once(names: set[str], n: int) -> None:
    targets = [Target(id=name, kind="plain", path=name) for name in names]
    shards = [[t.id for t in targets if shard_of(t, n) == k] for k in range(1, n + 1)]
    flat = [i for s in shards for i in s]
    assert sorted(flat) == sorted(names)  # every target in exactly one shard
    assert all(1 <= shard_of(t, n) <= n for t in targets)
    assert [shard_of(t, n) for t in targets] == [shard_of(Target(id=t.id, kind="helm", path="x"), n) for t in targets]


def test_chart_dependencies_local_library_and_remote(tree) -> None:
    files = {
        "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        "charts/lib/templates/_helpers.tpl": '{{- define "lib.name" -}}x{{- end -}}\n',
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
        "  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n"
        "  - name: redis\n    version: 1.2.3\n    repository: https://charts.example.com\n"
        "  - name: vendored\n    version: 2.0.0\n    repository: oci://ghcr.io/x\n",
        "charts/app/charts/vendored-2.0.0.tgz": "not really a tarball\n",
    }
    g = build_graph(tree(files))
    assert ids(g.targets) == ["charts/app"]  # a library chart renders nothing by itself
    (app,) = g.targets
    assert [(r.ref, str(r.location)) for r in app.remote] == [
        ("redis 1.2.3 from https://charts.example.com", "charts/app/Chart.yaml:10")
    ]
    assert ids(g.affected(["charts/lib/templates/_helpers.tpl"])) == ["charts/app"]  # through file://../lib

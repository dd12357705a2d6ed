"""The edit rules: what each reference kind becomes for tag+digest, digest-only and tag-only images."""

from __future__ import annotations

import pytest

from promoter.model.errors import UsageError

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: {image}   # pinned by promoter
"""


# ---- image strings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "image", "new"),
    [
        ("ghcr.io/acme/api:1.0", f"ghcr.io/acme/api:1.1@{D1}", f"ghcr.io/acme/api:1.1@{D1}"),  # tag+digest
        ("ghcr.io/acme/api:1.0", f"ghcr.io/acme/api@{D1}", f"ghcr.io/acme/api@{D1}"),  # digest only: no stale tag
        (f"ghcr.io/acme/api:1.0@{D2}", "ghcr.io/acme/api:1.1", "ghcr.io/acme/api:1.1"),  # tag only: stale digest goes
        (f"ghcr.io/acme/api@{D2}", f"ghcr.io/acme/api@{D1}", f"ghcr.io/acme/api@{D1}"),
        ("nginx:1.25", "docker.io/library/nginx:1.26", "nginx:1.26"),  # the repository keeps its spelling
        ("docker.io/library/nginx:1.25", "nginx:1.26", "docker.io/library/nginx:1.26"),
        ("ghcr.io/acme/api", "ghcr.io/acme/api:2", "ghcr.io/acme/api:2"),
    ],
)
def test_container_image_string(bump, old, image, new):
    b = bump(DEPLOY.format(image=old), image, "deploy.yaml")
    assert b.new == DEPLOY.format(image=new)
    assert [(c.old, c.new, c.style) for c in b.edit.changes] == [(old, new, "container")]
    assert [c.yaml_path for c in b.edit.changes] == ["spec.template.spec.containers[0].image"]
    assert [c.line for c in b.edit.changes] == [10]


def test_helm_image_string_and_argocd_kustomize_alias(bump):
    assert bump("image: ghcr.io/acme/api:1.0\n", f"ghcr.io/acme/api:2@{D1}").new == f"image: ghcr.io/acme/api:2@{D1}\n"
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source:\n"
        "    kustomize:\n      images:\n        - old-name=ghcr.io/acme/api:1.0\n"
    )
    b = bump(app, f"ghcr.io/acme/api@{D1}", "app.yaml")
    assert b.new == app.replace("old-name=ghcr.io/acme/api:1.0", f"old-name=ghcr.io/acme/api@{D1}")


# ---- kustomize images entries ------------------------------------------------------------------
def test_kustomize_tag_and_digest_adds_exactly_one_digest_line(bump):
    old = K + "images:\n  - name: ghcr.io/acme/api\n    newTag: \"1.0\" # set by CI\n  - name: redis\n    newTag: '7'\n"
    b = bump(old, f"ghcr.io/acme/api:1.1@{D1}", "kustomization.yaml")
    assert b.new == K + (
        'images:\n  - name: ghcr.io/acme/api\n    newTag: "1.1" # set by CI\n'
        f"    digest: {D1}\n  - name: redis\n    newTag: '7'\n"
    )
    assert [(c.yaml_path, c.old, c.new, c.note) for c in b.edit.changes] == [
        ("images[0].newTag", "1.0", "1.1", None),
        ("images[0].digest", None, D1, "digest key added"),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # indentless sequence
        ("images:\n- name: nginx\n  newTag: '1'\n", f"images:\n- name: nginx\n  newTag: '2'\n  digest: {D1}\n"),
        # 4-space indentation, odd spacing after the dash
        (
            'images:\n    -   name: nginx\n        newTag: "1"\n',
            f'images:\n    -   name: nginx\n        newTag: "2"\n        digest: {D1}\n',
        ),
        # no newTag at all: both keys added after name, in one op
        ("images:\n  - name: nginx\n", f'images:\n  - name: nginx\n    newTag: "2"\n    digest: {D1}\n'),
        # flow mapping entry
        ("images:\n  - {name: nginx, newTag: '1'}\n", f"images:\n  - {{name: nginx, newTag: '2', digest: {D1}}}\n"),
        # CRLF: the added line ends like the others
        (
            "images:\r\n  - name: nginx\r\n    newTag: '1'\r\n",
            f"images:\r\n  - name: nginx\r\n    newTag: '2'\r\n    digest: {D1}\r\n",
        ),
    ],
)
def test_kustomize_digest_key_added_with_the_entry_indentation(bump, entry, expected):
    k = K.replace("\n", "\r\n") if "\r" in entry else K
    b = bump(k + entry, f"nginx:2@{D1}", "kustomization.yaml")
    assert b.new == k + expected
    assert len(b.new.splitlines()) - len((k + entry).splitlines()) == expected.count("\n") - entry.count("\n")


def test_kustomize_keys_added_after_newname(bump):
    old = K + "images:\n  - name: nginx\n    newName: ghcr.io/m/nginx\n"
    b = bump(old, f"ghcr.io/m/nginx:2@{D1}", "kustomization.yaml")
    assert b.new == old + f'    newTag: "2"\n    digest: {D1}\n'


def test_kustomize_digest_only_drops_newtag_and_sets_digest(bump):
    old = K + f"images:\n  - name: nginx # the web server\n    newTag: 1.25\n    digest: {D2}\n  - name: redis\n"
    b = bump(old, f"nginx@{D1}", "kustomization.yaml")
    assert b.new == K + f"images:\n  - name: nginx # the web server\n    digest: {D1}\n  - name: redis\n"
    notes = [c.note for c in b.edit.changes]
    assert any(n and "newTag removed" in n for n in notes)


def test_kustomize_digest_only_without_digest_key_adds_it_and_drops_newtag(bump):
    old = K + "images:\n  - name: nginx\n    newTag: '1'\n"
    b = bump(old, f"nginx@{D1}", "kustomization.yaml")
    assert b.new == K + f"images:\n  - name: nginx\n    digest: {D1}\n"


def test_kustomize_digest_only_in_flow_entry_drops_first_key(bump):
    old = K + "images:\n  - {newTag: '1', name: nginx}\n"
    assert bump(old, f"nginx@{D1}", "kustomization.yaml").new == K + f"images:\n  - {{name: nginx, digest: {D1}}}\n"


def test_kustomize_tag_only_drops_a_stale_digest(bump):
    old = K + f"images:\n  - name: nginx\n    newTag: '1'\n    digest: {D2}\n    # trailing comment\n"
    b = bump(old, "nginx:2", "kustomization.yaml")
    assert b.new == K + "images:\n  - name: nginx\n    newTag: '2'\n    # trailing comment\n"


def test_kustomize_key_sharing_the_dash_line_cannot_be_dropped(bump):
    old = K + "images:\n  - newTag: '1'\n    name: nginx\n"
    with pytest.raises(UsageError, match="shares its line with another key or '-'"):
        bump(old, f"nginx@{D1}", "kustomization.yaml")


def test_flux_kustomization_images_follow_kustomize_rules(bump):
    old = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec:\n  images:\n    - name: nginx\n      newTag: 1.0.0\n"
    b = bump(old, f"nginx:1.1.0@{D1}", "ks.yaml")
    assert b.new == old.replace("newTag: 1.0.0\n", f"newTag: 1.1.0\n      digest: {D1}\n")


# ---- helm blocks -------------------------------------------------------------------------------
def test_helm_block_with_digest_key_gets_tag_and_digest(bump):
    old = 'image:\n  registry: ghcr.io\n  repository: acme/web\n  tag: "2.7.0"   # promoted\n  digest: ""\n  pullPolicy: IfNotPresent\n'
    b = bump(old, f"ghcr.io/acme/web:2.8.0@{D1}")
    assert b.new == old.replace('"2.7.0"', '"2.8.0"').replace('digest: ""', f'digest: "{D1}"')
    assert b.warnings == []


def test_helm_block_without_digest_key_sets_tag_and_warns(bump):
    old = "image:\n  repository: ghcr.io/acme/web\n  tag: v1\n"
    b = bump(old, f"ghcr.io/acme/web:v2@{D1}")
    assert b.new == "image:\n  repository: ghcr.io/acme/web\n  tag: v2\n"  # no digest key invented
    assert len(b.warnings) == 1 and "digest not pinned" in b.warnings[0] and "values.yaml:2" in b.warnings[0]


def test_helm_block_digest_only_without_digest_key_is_an_error_saying_how_to_proceed(bump):
    old = "image:\n  repository: ghcr.io/acme/web\n  tag: v1\n"
    with pytest.raises(UsageError) as exc:
        bump(old, f"ghcr.io/acme/web@{D1}")
    msg = str(exc.value)
    assert msg.startswith("values.yaml:2 (image):")
    assert "no `digest` key" in msg and "--image repo:tag@digest" in msg and "--tag" in msg


def test_helm_block_digest_only_with_a_tag_is_an_error_so_no_stale_tag_stays(bump):
    old = "image:\n  repository: ghcr.io/acme/web\n  tag: v1\n  digest: ''\n"
    with pytest.raises(UsageError) as exc:
        bump(old, f"ghcr.io/acme/web@{D1}")
    msg = str(exc.value)
    assert "tag v1" in msg and "stale" in msg and "--tag TAG" in msg


def test_helm_block_digest_only_with_an_empty_tag_sets_the_digest(bump):
    old = "image:\n  repository: ghcr.io/acme/web\n  tag: ''\n  digest: ''\n"
    b = bump(old, f"ghcr.io/acme/web@{D1}")
    assert b.new == f"image:\n  repository: ghcr.io/acme/web\n  tag: ''\n  digest: '{D1}'\n"


def test_helm_block_tag_only_clears_a_stale_digest(bump):
    old = f"image:\n  repository: ghcr.io/acme/web\n  tag: v1\n  digest: {D2}\n"
    b = bump(old, "ghcr.io/acme/web:v2")
    assert b.new == 'image:\n  repository: ghcr.io/acme/web\n  tag: v2\n  digest: ""\n'


def test_helm_block_sha_key_holds_the_hex_only(bump):
    old = 'image:\n  repository: quay.io/prometheus/node-exporter\n  tag: ""\n  sha: ""\n'
    b = bump(old, f"quay.io/prometheus/node-exporter:v1.8.0@{D1}")
    assert b.new == f'image:\n  repository: quay.io/prometheus/node-exporter\n  tag: "v1.8.0"\n  sha: "{D1[7:]}"\n'


def test_helm_block_without_tag_key_is_refused_unless_the_chart_declares_one(bump):
    old = "image:\n  repository: ghcr.io/acme/web\n  pullPolicy: Always\n"
    with pytest.raises(UsageError, match="no `tag` key and the chart's values.yaml declares none"):
        bump(old, "ghcr.io/acme/web:3")
    # The chart's values.yaml declares `tag` at image: the chart reads it, so the key is added, with a warning.
    defaults = {"image": {"repository": "ghcr.io/acme/web", "tag": ""}}
    b = bump(old, "ghcr.io/acme/web:3", "env/values-prod.yaml", defaults=defaults)
    assert b.new == 'image:\n  repository: ghcr.io/acme/web\n  tag: "3"\n  pullPolicy: Always\n'
    assert any("tag key added" in w for w in b.warnings)


def test_helm_block_with_digest_but_no_tag_key_pins_the_digest_and_says_the_tag_is_not_written(bump):
    old = f"image:\n  repository: ghcr.io/acme/web\n  digest: {D2}\n"
    b = bump(old, f"ghcr.io/acme/web:3@{D1}")
    assert b.new == f"image:\n  repository: ghcr.io/acme/web\n  digest: {D1}\n"
    assert any("tag 3 not written" in w for w in b.warnings)


def test_helm_block_nested_components_only_the_matching_one(bump):
    old = "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: '1'\nworker:\n  image:\n    repository: ghcr.io/acme/worker\n    tag: '1'\n"
    b = bump(old, "ghcr.io/acme/worker:2")
    assert b.new == old[: old.rindex("'1'")] + "'2'\n"


def test_env_values_over_chart_defaults(bump):
    defaults = {"image": {"registry": "ghcr.io", "repository": "acme/web", "tag": "1", "digest": ""}}
    old = "# prod\nimage:\n  tag: '2.7.0'   # promoted\n"
    b = bump(old, f"ghcr.io/acme/web:2.8.0@{D1}", "env/values-prod.yaml", defaults=defaults)
    assert b.new == "# prod\nimage:\n  tag: '2.8.0'   # promoted\n"
    assert any("digest not pinned" in w for w in b.warnings)


def test_flux_helmrelease_values_block(bump):
    old = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: p}\nspec:\n  values:\n"
        "    redis:\n      enabled: true\n      repository: public.ecr.aws/docker/library/redis\n      tag: 7.2.4\n"
    )
    b = bump(old, "public.ecr.aws/docker/library/redis:7.2.5", "release.yaml")
    assert b.new == old.replace("7.2.4", "7.2.5")
    assert [c.yaml_path for c in b.edit.changes] == ["spec.values.redis.tag"]


# ---- argo cd parameters ------------------------------------------------------------------------
APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source:
    helm:
      parameters:
        - name: image.repository
          value: ghcr.io/acme/web
        - name: image.tag
          value: "1.0"
"""


def test_argocd_parameters_tag(bump):
    b = bump(APP, f"ghcr.io/acme/web:1.1@{D1}", "app.yaml")
    assert b.new == APP.replace('"1.0"', '"1.1"')
    assert any("no digest parameter" in w for w in b.warnings)
    with pytest.raises(UsageError, match="digest only"):
        bump(APP, f"ghcr.io/acme/web@{D1}", "app.yaml")


def test_argocd_parameters_with_digest_parameter(bump):
    app = APP + '        - name: image.digest\n          value: ""\n'
    b = bump(app, f"ghcr.io/acme/web:1.1@{D1}", "app.yaml")
    assert b.new == app.replace('"1.0"', '"1.1"').replace('value: ""', f'value: "{D1}"')
    assert b.warnings == []


def test_argocd_values_object(bump):
    app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: w}\nspec:\n  source:\n    helm:\n      valuesObject:\n        image: {repository: ghcr.io/acme/web, tag: '1'}\n"
    assert bump(app, "ghcr.io/acme/web:2", "app.yaml").new == app.replace("tag: '1'", "tag: '2'")


# ---- no change ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "file", "image"),
    [
        (f"image: ghcr.io/acme/api:1@{D1}\n", "values.yaml", f"ghcr.io/acme/api:1@{D1}"),
        (K + f"images:\n- name: nginx\n  newTag: '1'\n  digest: {D1}\n", "kustomization.yaml", f"nginx:1@{D1}"),
        (K + f"images:\n- name: nginx\n  digest: {D1}\n", "kustomization.yaml", f"nginx@{D1}"),
        ("image:\n  repository: nginx\n  tag: 1.4\n", "values.yaml", "nginx:1.4"),
        ("image:\n  repository: nginx\n  tag: 2\n", "values.yaml", "nginx:2"),
    ],
)
def test_already_current_plans_no_edit(bump, text, file, image):
    b = bump(text, image, file)
    assert b.edit.ops == [] and b.edit.changes == [] and b.new == text


def test_flux_marker_reference_keeps_its_marker(bump):
    old = 'settings:\n  current: ghcr.io/acme/api:1.0 # {"$imagepolicy": "flux-system:api"}\n'
    b = bump(old, f"ghcr.io/acme/api:1.1@{D1}", "settings.yaml")
    assert b.new == f'settings:\n  current: ghcr.io/acme/api:1.1@{D1} # {{"$imagepolicy": "flux-system:api"}}\n'
    assert [c.style for c in b.edit.changes] == ["flux-marker"]


def test_container_with_marker_is_edited_once(bump):
    old = DEPLOY.format(image='ghcr.io/acme/api:1.0 # {"$imagepolicy": "flux-system:api"}')
    b = bump(old, "ghcr.io/acme/api:1.1", "deploy.yaml")
    assert b.new == old.replace("api:1.0", "api:1.1")
    assert [c.style for c in b.edit.changes] == ["container"]

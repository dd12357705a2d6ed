"""Secret values found by structure on both sides of a diff, replaced before the diff is made."""

from __future__ import annotations

import base64
import difflib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promoter.publish.masking import CHANGED, HIDDEN, Masker, MaskRules


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET = f"""apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{"data":{{"password":"{b64("applied-canary")}"}}}}'
data:
  password: {b64("data-canary-1")}
  a: YQ==
  b: Yg==
  c: Yw==
  d: ZA==
  e: ZQ==
  last: {b64("data-canary-2")}
stringData:
  token: string-canary
  script: |
    line one
    line two
"""


def diff(a: str | None, b: str | None) -> str:
    return "".join(difflib.unified_diff((a or "").splitlines(True), (b or "").splitlines(True)))


def test_every_value_of_a_secret_is_hidden_far_from_its_data_line() -> None:
    m = Masker()
    head = SECRET.replace(b64("data-canary-2"), b64("data-canary-3"))
    old, new = m.texts("s.yaml", SECRET, head)
    assert old is not None and new is not None
    d = diff(old, new)
    # The changed value sits 7 lines below `data:`: outside a text diff's context, still hidden.
    assert d.count("\n-") == 1 and f"-  last: {HIDDEN}" in d and f"+  last: {CHANGED}" in d
    for canary in ("data-canary-1", "data-canary-2", "data-canary-3", "string-canary", "applied-canary", "line one"):
        assert canary not in new and b64(canary) not in new
    # Line structure is kept, so hunk line numbers still point at the real file.
    assert old.count("\n") == SECRET.count("\n") and new.count("\n") == head.count("\n")
    # Both the encoded value and what it decodes to are remembered for the final scrub.
    assert {"data-canary-1", b64("data-canary-1"), "string-canary"} <= m.values
    assert m.scrub("a finding quoting data-canary-2 and " + b64("data-canary-1")).count(HIDDEN) == 2


@pytest.mark.parametrize(
    ("text", "hidden", "shown"),
    [
        ("kind: ConfigMap\ndata:\n  DB_PASSWORD: cm-canary\n  color: blue\n", "cm-canary", "blue"),
        ("auth:\n  rootPassword: values-canary\nimage:\n  tag: 1.2.3\n", "values-canary", "1.2.3"),
        ("secrets:\n  db: nested-canary\n  image: ghcr.io/a/b\n", "nested-canary", "ghcr.io/a/b"),
        ("env:\n  - name: API_TOKEN\n    value: env-canary\n  - name: COLOR\n    value: red\n", "env-canary", "red"),
        ("data:\n  app.properties: |\n    db.url=jdbc:x\n    db.password=props-canary\n", "props-canary", "jdbc:x"),
        ("secretGenerator:\n  - name: gen\n    literals:\n      - USER=literal-canary\n", "literal-canary", "gen"),
        ("data:\n  url: postgres://app:url-canary@db/x\n", "url-canary", "postgres://app:"),
        ("apiKey: 'quoted-canary'\nmonkey: visible\n", "quoted-canary", "visible"),
        (
            "env:\n  - name: X\n    valueFrom:\n      secretKeyRef: {name: db, key: password}\n",
            "never",
            "secretKeyRef: {name: db, key: password}",
        ),
    ],
)
def test_credential_shapes_anywhere_in_yaml(text: str, hidden: str, shown: str) -> None:
    _, new = Masker().texts("values.yaml", text, text)
    assert new is not None and hidden not in new and shown in new


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("dbpassword", True),
        ("accesstoken", True),
        ("privatekey", True),
        ("htpasswd", True),
        ("clientsecret", True),
        ("PGPASSWORD", True),
        ("awsSecretAccessKey", True),
        ("monkey", False),
        ("secretName", False),
        ("existingSecret", False),
        ("imagePullSecrets", False),
        ("publickey", False),
        ("replicas", False),
    ],
)
def test_credential_words_run_together_count(key: str, secret: bool) -> None:
    """Keys are often written without separators: `dbpassword` is as secret as `db_password`."""
    assert MaskRules().sensitive(key) is secret
    text = f"data:\n  {key}: glued-canary-1\n"
    _, new = Masker().texts("values.yaml", text, text.replace("canary-1", "canary-2"))
    assert new is not None and ("glued-canary" not in new) is secret


def test_credentials_inside_argument_and_command_strings() -> None:
    """`--db-password=…` in an argument list and `PGPASSWORD=…` inside a quoted command: the value goes,
    the rest of the string (and its quotes) stays."""
    base = 'extraArgs: ["--db-password=arg-canary-1", "--verbose=true"]\ncmd: "PGPASSWORD=cmd-canary-1 psql -h db"\n'
    head = base.replace("canary-1", "canary-2")
    m = Masker()
    old, new = m.texts("values.yaml", base, head)
    assert old is not None and new is not None
    for text in (old, new):
        assert "arg-canary" not in text and "cmd-canary" not in text
        assert '"--verbose=true"]' in text and text.count('"') == base.count('"')
    assert f'"--db-password={CHANGED}"' in new
    assert {"arg-canary-1", "arg-canary-2"} <= m.values  # remembered for the final scrub
    rendered = {"kind": "Deployment", "spec": {"args": ["--api-token=obj-canary", "--port=80"]}}
    _, masked = Masker().objects(rendered, rendered)
    assert masked["spec"]["args"] == [f"--api-token={HIDDEN}", "--port=80"]


def test_files_that_are_not_yaml_are_masked_by_line_and_credential_files_whole() -> None:
    env = 'DB_PASSWORD=env-file-canary\nCOLOR=red\nexport API_TOKEN="tok-canary"\n'
    _, new = Masker().texts("app.env", env, env)
    assert new is not None and "env-file-canary" not in new and "tok-canary" not in new and "COLOR=red" in new
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n"
    old, new = Masker().texts("certs/tls.key", key, key.replace("MIIE", "XXXX"))
    assert new is not None and "MIIE" not in (old or "") and "XXXX" not in new and CHANGED in new
    template = "password: {{ .Values.password | b64enc }}\n{{- if .Values.x }}\n"
    _, new = Masker().texts("templates/s.yaml", template, template)  # not YAML: line rule
    assert new is not None and ".Values.password" not in new


def test_rendered_objects_are_masked_pairwise() -> None:
    base = {"kind": "Secret", "data": {"a": b64("old-value-1")}, "metadata": {"name": "x"}}
    head = {"kind": "Secret", "data": {"a": b64("new-value-2"), "n": "eA=="}, "metadata": {"name": "x"}}
    m = Masker()
    mb, mh = m.objects(base, head)
    assert mb == {"kind": "Secret", "data": {"a": HIDDEN}, "metadata": {"name": "x"}}
    assert mh == {"kind": "Secret", "data": {"a": CHANGED, "n": HIDDEN}, "metadata": {"name": "x"}}
    assert base["data"]["a"] == b64("old-value-1")  # the inputs are left alone
    assert {"old-value-1", "new-value-2"} <= m.values
    same = {"kind": "ConfigMap", "data": {"TOKEN": "t-123456", "x": "1"}}
    a, b = Masker().objects(same, same)
    assert a == b == {"kind": "ConfigMap", "data": {"TOKEN": HIDDEN, "x": "1"}}


def test_the_key_pattern_is_configurable_and_reads_words() -> None:
    rules = MaskRules()
    assert rules.sensitive("DB_PASSWORD") and rules.sensitive("dbPassword") and rules.sensitive("db.password")
    assert rules.sensitive("apiKey") and not rules.sensitive("monkey") and not rules.sensitive("secretName")
    custom = MaskRules.from_config(["pin", "otp"])
    assert custom.sensitive("bank_pin") and not custom.sensitive("password")
    _, new = Masker(custom).texts(
        "v.yaml", "bankPin: 1234\npassword: visible-now\n", "bankPin: 1234\npassword: visible-now\n"
    )
    assert new == f"bankPin: {HIDDEN}\npassword: visible-now\n"


def test_an_alias_bomb_stays_small() -> None:
    bomb = "a: &a [password, password]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    old, new = Masker().texts("bomb.yaml", bomb, bomb)
    assert new is not None and len(new) < 2 * len(bomb)


# Text the masked Secret always holds whatever the value: a value that is part of it (`string` in
# `stringData`) would be found there without having leaked.
_SKELETON = "apiVersion: v1\nkind: Secret\nstringData:\n  k: \n  n: x\n" + HIDDEN + CHANGED + "⋯"


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=6, max_size=40).filter(
        lambda v: v.strip() and v.strip() not in _SKELETON
    )
)
def test_any_value_under_a_secret_never_survives(value: str) -> None:
    import yaml

    text = yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "stringData": {"k": value, "n": "x"}})
    _, new = Masker().texts("s.yaml", text, text)
    assert new is not None
    # A value folded over lines keeps its line count: `⋯` marks the lines it covered.
    assert str(yaml.safe_load(new)["stringData"]["k"]).startswith((HIDDEN, CHANGED))
    assert value.strip() not in new


def test_a_pattern_that_is_not_a_regular_expression_is_a_config_error() -> None:
    from promoter.model.errors import ConfigError

    with pytest.raises(ConfigError, match=r"forge.mask_keys\[1\]: '\(unclosed' is not a regular expression"):
        MaskRules.from_config(["pin", "(unclosed"])

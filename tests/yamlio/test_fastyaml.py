"""The yaml-rs fast path (yamlio/fastyaml.py): whenever it says "mine", it reads exactly what the
libyaml reader (go-yaml v2 semantics) reads, values, types, key order and document lines alike.

Differential over the real corpus, the benchmark's generated files and thousands of generated
snippets (risky plain scalars in every position, then broken by random edits); table tests for
each guard; hostile input (deep nesting) in a child process, so a crash fails the test instead
of killing the worker."""

from __future__ import annotations

import random
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml_rs

from promoter.yamlio import fastyaml
from promoter.yamlio.manifests import decode, load_manifests
from promoter.yamlio.resolve import STR, resolve
from tests.yamlio.yamlgen import block_case, case, edit, flow_case, plain_case, quoted_case, reference, same

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from bench_validate import app_yaml  # noqa: E402


def agrees(text: str) -> bool | None:
    """None: not mine; else whether the fast path read what the libyaml reader reads."""
    got = fastyaml.documents(text)
    if got is None:
        return None
    ref = reference(text)
    return ref is not None and same(got, ref)


def test_corpus_files_read_alike(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert len(files) > 100
    mine = 0
    for p in files:
        try:
            text = decode(p.read_bytes()).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
        verdict = agrees(text)
        assert verdict is not False, p
        mine += verdict is True
    # 141 of 185 when written; the rest hold `on:`, `2.0`, anchors, Helm templates (not mine).
    assert mine >= len(files) // 2, (mine, len(files))


def test_benchmark_files_are_all_mine_and_read_alike() -> None:
    for i in range(60):
        text = app_yaml(i, broken=i % 50 == 7)
        assert agrees(text) is True, i


def _mine(make: Callable[[int], str], seeds: int) -> int:
    """How many of `seeds` generated texts the fast path reads; each one it reads must read alike."""
    mine = 0
    for seed in range(seeds):
        text = make(seed)
        verdict = agrees(text)
        assert verdict is not False, (seed, text)
        mine += verdict is True
    return mine


def test_generated_snippets_read_alike_or_are_not_mine() -> None:
    assert _mine(case, 6000) > 300  # the generator must keep exercising the fast path, not only its guards


@pytest.mark.parametrize("make", [block_case, quoted_case, flow_case, plain_case], ids=lambda f: f.__name__)
def test_focused_snippets_read_alike_or_are_not_mine(make) -> None:  # type: ignore[no-untyped-def]
    """Block scalars (indicators, indentation, blank and comment lines, the document's end),
    quoted scalars (escapes valid or not, folding), flow collections (adjacent `:`, empty entries,
    line breaks anywhere), plain scalars continued over lines."""
    assert _mine(make, 2500) > 500


def test_edited_manifests_read_alike_or_are_not_mine() -> None:
    """Realistic structure broken in realistic ways: lines copied, shifted, dropped, or edited with
    YAML's significant characters and risky scalars."""
    bases = [app_yaml(i, broken=i % 7 == 0) for i in range(10)] + MINE
    mine = 0
    for seed in range(3000):
        rng = random.Random(seed)
        text = edit(rng, rng.choice(bases))
        verdict = agrees(text)
        assert verdict is not False, (seed, text)
        mine += verdict is True
    assert mine > 300


def test_runs_the_filter_skips_are_strings_to_both_readers() -> None:
    """The filter checks only runs starting with a sign, digit, `.`, `_`, `~`, `<` or one of a few
    words; everything else must be a string to go-yaml v2 and to yaml-rs (or an error)."""
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-~<>=/\\$()^;'\"é日"
    checked = 0
    for _ in range(20000):
        run = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        if run[0] in fastyaml._RISKY_START or run in fastyaml._RISKY_WORDS:
            continue
        checked += 1
        assert resolve(run)[0] == STR, run
        try:
            rs = yaml_rs.loads(f"[{run}]", parse_datetime=False)
        except yaml_rs.YAMLDecodeError:
            continue
        assert isinstance(rs, list) and len(rs) == 1 and type(rs[0]) is str, (run, rs)
    for word in ("nan", "NaN", "inf", "Infinity", "tRue", "nULL", "yES", "Off", "none", "nil"):
        if word not in fastyaml._RISKY_WORDS:
            assert yaml_rs.loads(f"[{word}]") == [word]
    assert checked > 10000


MINE = [
    'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "true"\n  b: \'8080\'\n  c: "yes"\n',
    "a: 1\nb: 1.5\nc: .inf\nd: true\ne: ~\nf: 0x1F\ng: 0o17\nh: 1_000\ni: +12\nj: 08\nk: 18446744073709551615\n",
    "k: 2024-01-01\nl: 1:30\nm: =\nr: a#b\no: a b # c\np: http://x/y\nq: '#x'\n",
    'args: ["--port=8080", --log, x]\nempty: {}\nnone: []\nflow: {a: 1, b: [c, {d: e}]}\n',
    "a: |\n  x\n  # not a comment\n\nb: >-\n  folded\n  text\n\nc: |+\n  kept\n\nd: 1\n",
    "a: \"esc\\t\\u00e9\\x41\\N\"\nb: 'it''s'\nc: \"multi\n  line\"\nd: plain\n  continued\n",
    "# comment on yes\n---\n# x\na: 1\n---\n---\n- 1\n- [2]\n---\nscalar\n--- # c\n",
    "kind: List\napiVersion: v1\nitems:\n- - - deep\n- key: value\n  other: value\n",
    # as deep as the guards let through: 100 block levels, then 200 flow levels
    "".join(" " * i + f"k{i}:\n" for i in range(99)) + " " * 99 + "v: " + "[" * 200 + "]" * 200 + "\n",
]
NOT_MINE = {
    "plain yes": "a: yes\n",
    "plain on as a key": "on:\n  push: {}\n",
    "y and n": "a: [y, n]\n",
    "legacy octal": "mode: 0755\n",
    "integral float": "v: 1.0\n",
    "float out of range": "v: 1e400\n",
    "int beyond uint64": "v: 99999999999999999999\n",
    "negative beyond int64": "v: -9223372036854775809\n",
    "merge key": "a: &x {b: 1}\nc:\n  <<: *x\n",
    "merge key without anchors": "c:\n  <<: {b: 1}\n",
    "anchor": "a: &x 1\n",
    "alias": "a: *x\n",
    "tag": "a: !!str 1\n",
    "custom tag": "a: !vault abc\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "document end": "a: 1\n...\n",
    "content on the marker line": "--- a: 1\n",
    "duplicate key": "a: 1\na: 2\n",
    "duplicate key through values": "1: a\n01: b\n",
    "parse error": "a: [\n",
    "tab": "a:\tb\n",
    "carriage return": "a: b\r\nc: d\r\n",
    "NEL": "a: b\x85c: d\n",
    "LS": "a: b\u2028c\n",
    "PS": "a: b\u2029c\n",
    "BOM inside": "a: 1\n---\n\ufeffb: 2\n",
    "control character": "a: b\x01\n",
    "no-break space": "a:\xa0yes\n",
    "explicit key": "? a\n: b\n",
    "question mark in a flow": "- [?a]\n",
    "indicator as plain start in a flow": "{>x: 1}\n",
    "pipe as plain start in a flow": "[|x]\n",
    "space before colon": "a : b\n",
    "colon before a flow end": "- [a:]\n- {k: '',a:}\n",
    "colon before a comma": "k: {a:, b: 1}\n",
    "Helm template": "metadata:\n  name: {{ .Values.name }}\n",
    "list as key": "[a, b]: c\n",
    "multi-line key in a flow": '{"a\n  b": c}\n',
    "multi-line plain key in a flow": "{a\n b: c}\n",
    "empty block scalar at the end": "a: |\n",
    "block scalar at the end without a line break": "a: |\n  x",
    "long key": "k" * 1100 + ": v\n",
    "deep indentation": "a:\n" + " " * 120 + "b: 1\n",
    # keys go-yaml reads as no string: sigs.k8s.io/yaml makes them strings ("1e+20") or refuses them
    "keys that are not strings": "2: int key\nnull: none key\ntrue: bool key\n",
    "null key": "~: x\n",
    "float key": "1e20: x\n",
    "integer key in a flat flow": "k: {1: x}\n",
    "key without a colon in a flow": "{.nan, a: b}\n",
    "key in a flow after a comma": "k: [{a: b,1: c}]\n",
}


@pytest.mark.parametrize("text", MINE)
def test_mine(text: str) -> None:
    assert agrees(text) is True


@pytest.mark.parametrize("text", NOT_MINE.values(), ids=NOT_MINE.keys())
def test_not_mine(text: str) -> None:
    assert fastyaml.documents(text) is None


def test_document_lines_are_libyamls() -> None:
    text = "# head\n\n---\n# c\n\n  a: 1\n---\n---\n- x\n---\n"
    assert fastyaml.documents(text) == [(5, {"a": 1}), (7, None), (8, ["x"]), (10, None)]
    assert fastyaml.documents("a: 1\n---") == [(0, {"a": 1}), (2, None)]


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "[" * 100_000,
        "{a: " * 50_000 + "1" + "}" * 50_000,
        "".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v\n",
        "- " * 100_000 + "x\n",
        "".join(" " * i + "-\n" for i in range(3000)),
    ],
    ids=["flow", "unclosed flow", "flow mappings", "indented mappings", "compact sequences", "indented sequences"],
)
def test_deep_nesting_does_not_crash(text: str, tmp_path: Path) -> None:
    """yaml-rs recurses on the C stack: ~20,000 block levels kill the process. Run where a crash
    shows as a failure; the fast path must say "not mine" or agree, and load_manifests return."""
    src = tmp_path / "deep.yaml"
    src.write_text(text)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from promoter.yamlio import fastyaml\n"
        "from promoter.yamlio.manifests import load_manifests\n"
        "text = Path(sys.argv[1]).read_text()\n"
        "print('mine' if fastyaml.documents(text) is not None else 'not mine')\n"
        "resources, findings = load_manifests(text, 't', file='deep.yaml')\n"
        "print(len(resources), [f.rule for f in findings])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines()[0] == "not mine"


def test_load_manifests_keeps_its_findings_on_the_fast_path() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: .inf}\n---\nkind: 5\napiVersion: 1.5\n"
    assert fastyaml.documents(text) is not None
    resources, findings = load_manifests(text, "t", file="m.yaml")
    assert [f.rule for f in findings] == ["yaml"] and ".inf and .nan have no JSON form" in findings[0].message
    assert str(findings[0].location) == "m.yaml:1"
    (r,) = resources
    assert r.obj["kind"] == "5" and r.obj["apiVersion"] == "1.5" and r.location.line == 6


def test_load_manifests_falls_back_for_duplicate_keys() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
    resources, findings = load_manifests(text, "t", file="m.yaml")
    assert resources == [] and [f.rule for f in findings] == ["duplicate-key"]


def test_huge_numbers_are_strings_as_in_go_and_no_crash() -> None:
    """Go's ParseInt and ParseFloat refuse them (go-yaml keeps the string); Python's int() raised
    ValueError over 4,300 digits, out of both readers."""
    for digits in ("1" * 5000, "0x" + "f" * 5000, "1" * 400):
        text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata:\n  num: {digits}\n"
        assert fastyaml.documents(text) is None  # neither 1e400 nor a 5,000-digit int agrees with yaml-rs
        resources, findings = load_manifests(text, "t", file="m.yaml")
        assert findings == [] and resources[0].obj["data"]["num"] == digits
    assert resolve("1" * 70) == ("tag:yaml.org,2002:float", int(float("1" * 70)))  # finite: a float in Go too
    assert resolve("1" * 21) == ("tag:yaml.org,2002:float", int(float("1" * 21)))  # beyond uint64: a float


def test_without_yaml_rs_nothing_is_mine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastyaml, "_rs", None)
    assert fastyaml.documents("a: 1\n") is None
    resources, findings = load_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "t", file="m.yaml")
    assert [r.name for r in resources] == ["a"] and findings == []


def test_yaml_rs_is_pinned_to_the_checked_version() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"yaml-rs=={fastyaml.VERSION}" in deps
    assert yaml_rs.__version__ == fastyaml.VERSION

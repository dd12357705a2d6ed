"""Random YAML for the fast reader's differential tests: risky scalars in every position and layout,
then, for some cases, a few characters inserted or dropped so that broken YAML is tried too."""

from __future__ import annotations

import random
from typing import Any

import yaml

from promoter.yamlio import manifests

# Plain scalars go-yaml v2 and YAML 1.2 read differently (or alike, by a hair).
RISKY = [
    *["y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "oN", "yEs"],
    *["true", "True", "TRUE", "tRue", "false", "False", "FALSE", "null", "Null", "NULL", "nULL", "~"],
    *[
        "0",
        "-0",
        "+0",
        "00",
        "01",
        "07",
        "08",
        "09",
        "010",
        "0755",
        "-0755",
        "+0755",
        "0o17",
        "0O17",
        "0o8",
        "0x1F",
        "0X1F",
        "+0x1F",
        "-0x1F",
        "0x",
        "0b101",
        "0B101",
        "0b2",
    ],
    *[
        "1_000",
        "_1",
        "+_1",
        "1__0",
        "0x_1",
        "1_",
        "12e3",
        "1e3",
        "1E3",
        "1e+3",
        "1e400",
        "-1e400",
        "1.0",
        "1.",
        "0.",
        ".5",
        "+.5",
        "-.5e-3",
        "0.0",
        "-0.0",
        "1.5",
        "3.25",
    ],
    *[".inf", "-.Inf", "+.INF", ".iNf", ".nan", ".NaN", ".NAN", "nan", "inf", "Infinity", "+inf"],
    *["9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809"],
    *["18446744073709551615", "18446744073709551616", "99999999999999999999", "1e20"],
    *[
        "<<",
        "=",
        "-",
        "--",
        "-x",
        "--port=80",
        "1:30",
        "-1:30:00",
        "2024-01-01",
        "2001-12-14t21:59:43.10-05:00",
        "v1",
        "1.4.0",
        "10.0.0.1",
    ],
    *[
        "a#b",
        "1#2",
        "http://x/y",
        "a:b",
        "a,b",
        "25%",
        "@x",
        "`x",
        "*x",
        "&x",
        "!x",
        "%x",
        "?x",
        "|x",
        ">x",
        ".x",
        "_x",
    ],
]
WORDS = ["app", "name", "value", "kind", "a b", "x w z", "é", "日本", "😀", "", "k8s.io/name"]
ESCAPES = [
    "\\n",
    "\\t",
    "\\x41",
    "\\u00e9",
    "\\U0001F600",
    "\\0",
    "\\a",
    "\\e",
    "\\_",
    "\\N",
    "\\L",
    "\\P",
    '\\"',
    "\\\\",
    "\\/",
]
NOISE = list("\n \t:-?,[]{}#&*!|>'\"%@`") + [
    "\r",
    "\r\n",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\x00",
    "\x7f",
    "  ",
    "\n- ",
    ": ",
]


def plain(rng: random.Random) -> str:
    # Each case has its own share of risky plain scalars (the rest quoted or words), so that the
    # fast reader says "mine" to enough of them to be tested.
    return rng.choice(RISKY) if rng.random() < getattr(rng, "risk", 0.7) else rng.choice(WORDS)


def scalar(rng: random.Random, indent: int, flow: bool) -> str:
    """One scalar as written in a file: plain, quoted (with escapes, folded lines) or a block scalar."""
    r = rng.random()
    text = plain(rng)
    if r < 0.45 and text and not flow or r < 0.55 and text:
        return text
    if r < 0.7:
        body = text.replace("'", "''")
        if rng.random() < 0.2:
            body += "\n" + " " * (indent + 1) + rng.choice(["", "x", "  y"]) + rng.choice(["", "\n"])
        return f"'{body}'"
    if r < 0.85 or flow:
        body = text.replace("\\", "\\\\").replace('"', '\\"')
        if rng.random() < 0.4:
            body += rng.choice(ESCAPES)
        if rng.random() < 0.2:
            body += rng.choice(["\\\n", "\n", "\n\n"]) + " " * (indent + 1) + "z "
        return f'"{body}"'
    head = rng.choice(["|", ">", "|-", ">-", "|+", ">+", "|2", ">1-"]) + rng.choice(["", " # c"])
    pad = " " * (indent + 2)
    lines = [
        rng.choice(["", "  ", plain(rng), f"{plain(rng)} {plain(rng)}", "   more"]) for _ in range(rng.randint(1, 4))
    ]
    return head + "".join("\n" + (pad + ln if ln.strip() else ln) for ln in lines) + rng.choice(["", "\n", "\n\n"])


def node(rng: random.Random, indent: int, depth: int) -> str:
    """A value after `key:` or `- `: a scalar on the line, or a collection (flow, or block below)."""
    r = rng.random()
    if depth > 3 or r < 0.45:
        return " " + scalar(rng, indent, flow=False) + rng.choice(["", "", " # note"])
    if r < 0.6:
        return " " + flow_node(rng, depth)
    if r < 0.8:
        return "\n" + block_map(rng, indent + rng.choice([1, 2, 4]), depth + 1)
    return "\n" + block_seq(rng, indent + rng.choice([0, 2]), depth + 1)


def flow_node(rng: random.Random, depth: int) -> str:
    items = []
    is_map = rng.random() < 0.5
    for _ in range(rng.randint(0, 3)):
        v = flow_node(rng, depth + 1) if depth < 3 and rng.random() < 0.2 else scalar(rng, 0, flow=True)
        if is_map or rng.random() < 0.1:
            k = scalar(rng, 0, flow=True)
            items.append(f"{k}: {v}" if rng.random() < 0.9 else k)
        else:
            items.append(v)
    sep = rng.choice([", ", ",", ",\n  "])
    body = sep.join(items) + rng.choice(["", "", ","])
    return ("{" + body + "}") if is_map else ("[" + body + "]")


def key(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        risky = ["on", "yes", "1", "0755", "1.0", "<<", "null", "true", "8080"]
        return rng.choice(risky if rng.random() < getattr(rng, "risk", 0.7) else WORDS[:4])
    if r < 0.8:
        return f'"{plain(rng)}"'
    return f"'{plain(rng)}'"


def block_map(rng: random.Random, indent: int, depth: int) -> str:
    pad = " " * indent
    lines = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.1:
            lines.append(pad + "# comment " + plain(rng))
        lines.append(pad + key(rng) + ":" + node(rng, indent, depth))
    return "\n".join(lines)


def block_seq(rng: random.Random, indent: int, depth: int) -> str:
    pad = " " * indent
    lines = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.3 and depth < 4:
            inner = block_map(rng, indent + 2, depth + 1)
            lines.append(pad + "- " + inner.lstrip(" "))
        elif r < 0.4 and depth < 4:
            lines.append(pad + "- " + block_seq(rng, indent + 2, depth + 1).lstrip(" "))
        else:
            lines.append(pad + "-" + node(rng, indent, depth))
    return "\n".join(lines)


def document(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return block_map(rng, 0, 0)
    if r < 0.9:
        return block_seq(rng, 0, 0)
    return scalar(rng, 0, flow=False) if r < 0.95 else flow_node(rng, 0)


def stream(rng: random.Random) -> str:
    parts = [document(rng) for _ in range(rng.randint(1, 3))]
    seps = ["\n---\n", "\n---\n\n", "\n--- # c\n", "\n---\n---\n", "\n", "\n---\n", "\n--- "]
    if rng.random() < 0.1:
        seps.append("\n...\n---\n")
    text = (
        rng.choice(["", "", "---\n", "# head\n", "---\n", "%YAML 1.1\n---\n" if rng.random() < 0.2 else ""]) + parts[0]
    )
    for p in parts[1:]:
        text += rng.choice(seps) + p
    return text + rng.choice(["\n", "", "\n---\n", "\n\n# end\n"])


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        insert = rng.random() < 0.6 or not text
        text = text[:i] + rng.choice(NOISE) + text[i:] if insert else text[:i] + text[i + 1 :]
    return text


EDITS = [*NOISE, "'", '"', "yes", "1.0", "0755", "on", "{", "}", "[", "]", ",", "|", ">", "|-", "\n  ", "- ", "? "]
EDITS += ["#", " #", "---\n", "\n---\n", "\\", "\\\n", "y", "~", "<<: ", "&a ", "*a", "!!str "]


def edit(rng: random.Random, text: str) -> str:
    """A real manifest with a few lines copied, indented, dedented, dropped or edited."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        i = rng.randrange(len(lines))
        if r < 0.2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif r < 0.3:
            lines[i] = " " + lines[i]
        elif r < 0.4 and lines[i].startswith(" "):
            lines[i] = lines[i][1:]
        elif r < 0.5 and len(lines) > 1:
            del lines[i]
        else:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + rng.choice(EDITS) + lines[i][j + (rng.random() < 0.3) :]
    return "\n".join(lines)


def case(seed: int) -> str:
    rng = random.Random(seed)
    rng.risk = rng.choice([0.0, 0.0, 0.05, 0.3, 0.7])  # type: ignore[attr-defined]
    text = stream(rng)
    return mutate(rng, text) if rng.random() < 0.3 else text


# Focused generators: one kind of scalar or collection, in its contexts, with its edge cases.
ESCAPES_ALL = [*ESCAPES, "\\x4", "\\u12", "\\U00110000", "\\ud800", "\\b", "\\f", "\\v", "\\r", "\\ ", "\\q", "\\'"]
ESCAPES_ALL += ["\\\n", "\\x7f", "\\x85", "\\u2028", "\\ufeff"]
PIECES = ["a", "b c", " ", "  ", "#", " #x", ":", ": ", ",", "]", "}", "'", "''", '"', "é", "-", "--- ", "..."]


def block_case(seed: int) -> str:
    rng = random.Random(seed)
    head = rng.choice("|>") + rng.choice(["", "-", "+", "1", "2", "3", "1-", "2+", "-1", "+2"])
    head += rng.choice(["", " ", " # c"])
    base = rng.choice([0, 2, 4])
    lines = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.25:
            lines.append(" " * rng.randint(0, base + 5))
        elif r < 0.3:
            lines.append(" " * rng.randint(0, base + 3) + "# x")
        else:
            indent = " " * (base + rng.choice([0, 1, 2, 2, 2, 3, 4]))
            lines.append(indent + rng.choice(["a", "b c", "  d", "e:", "- f", "'g'", "h\\"]))
    pad = " " * max(base - 2, 0)
    pre = rng.choice(["k: ", "- ", "k:\n" + pad + "  - "]) if base else "k: "
    tail = rng.choice(["", "\n" + pad + "z: 1", "\n---\nq: 1", "\n" + pad + "# end", "\n"])
    text = (pad if base else "") + pre + head + ("\n" + "\n".join(lines) if lines else "") + tail
    text += rng.choice(["", "\n"])
    return "root:\n" + text if base and not pre.startswith("k:\n") else text


def quoted_case(seed: int) -> str:
    rng = random.Random(seed)
    q = rng.choice(['"', "'", ""])
    body = ""
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.3 and q == '"':
            body += rng.choice(ESCAPES_ALL)
        elif r < 0.5:
            body += "\n" + " " * rng.randint(0, 5) + rng.choice(["", "", "x", " y "])
        else:
            body += rng.choice(PIECES)
    if q == "'" and rng.random() < 0.8:
        body = body.replace("'", "''")
    if q == '"' and rng.random() < 0.8 and '\\"' not in body:
        body = body.replace('"', '\\"')
    ctx = rng.choice(["k: {}\n", "- {}\n", "k:\n  {}\n", "[{}]\n", "{{k: {}}}\n", "k: {} # c\nz: 1\n", "{}: v\n"])
    return ctx.format(q + body + q)


ATOMS = ["a", "b c", '"q"', "'s'", '"k"', "1", "x-y", "http://h", "a:b", "é", "", "-x", "--", "a#b", "c #d\n", "~"]


def _flow(rng: random.Random, depth: int) -> str:
    is_map = rng.random() < 0.5
    items = []
    for _ in range(rng.randint(0, 4)):
        v = _flow(rng, depth + 1) if depth < 3 and rng.random() < 0.3 else rng.choice(ATOMS)
        if is_map or rng.random() < 0.15:
            k = _flow(rng, depth + 1) if rng.random() < 0.05 else rng.choice(ATOMS)
            colon = rng.choice([": ", ":", " : ", ":\n ", "\n: ", ": \n  "])
            items.append(k + (colon + v if rng.random() < 0.85 else ""))
        else:
            items.append(v)
    body = ""
    for i, item in enumerate(items):
        last = i == len(items) - 1
        body += item + rng.choice(["", ",", " ", "\n"] if last else [",", ", ", " ,", ",\n ", "\n,", ",,", ""])
    opening, closing = ("{", "}") if is_map else ("[", "]")
    return opening + rng.choice(["", " ", "\n  "]) + body + closing


def flow_case(seed: int) -> str:
    rng = random.Random(seed)
    return rng.choice(["k: {}\n", "- {}\n", "{}\n", "k:\n  {}\nz: 1\n", "k: {} # c\n"]).format(_flow(rng, 0))


CONTINUATIONS = ["x", "y z", "a: b", "a:b", "- c", "# c", "#c", "d #e", "'q'", '"q"', "[a]", "{b}", "e,f", "--- "]
CONTINUATIONS += ["---", "k:", "é"]


def plain_case(seed: int) -> str:
    """A plain scalar, then lines that may continue it (or end it, or break the document)."""
    rng = random.Random(seed)
    base = rng.choice([0, 2])
    lines = [" " * base + rng.choice(["k: ", "- ", "k: - ", ""]) + rng.choice(["a", "b c", "-a", "a:b"])]
    for _ in range(rng.randint(1, 5)):
        blank = rng.random() < 0.2
        lines.append(" " * rng.randint(0, 3) if blank else " " * rng.randint(0, base + 4) + rng.choice(CONTINUATIONS))
    return ("root:\n" if base else "") + "\n".join(lines) + rng.choice(["", "\n", "\nz: 1\n"])


def reference(text: str) -> list[tuple[int, Any]] | None:
    """What load_manifests parses from `text` (its fast path, else the careful loader document by
    document); None when any document is a finding (a parse error, a duplicate key, too deep)."""
    try:
        return manifests._fast_documents(text)
    except (yaml.YAMLError, manifests._Unusual, RecursionError):
        pass
    out: list[tuple[int, Any]] = []
    for first, chunk in manifests._documents(text):
        if not chunk.strip():
            continue
        try:
            out.extend(manifests._careful_documents(chunk, first))
        except (yaml.YAMLError, RecursionError):
            return None
    return out


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (True is not 1, 1 is not 1.0), dict keys in the
    same order; iterative, for deep documents."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
            stack.extend(zip(x.values(), y.values(), strict=True))
        elif isinstance(x, (list, tuple)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if repr(x) != repr(y):  # nan, -0.0
                return False
        elif x != y:
            return False
    return True

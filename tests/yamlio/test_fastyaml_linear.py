"""fastyaml's guards read hostile text in time linear in its length: a 100 KB line of spaces inside
a flow collection took 100 s (`x*?[ ]*` tried every split of the spaces), a 100 KB line of ` #`
words 12 s (the comment regex rescanned the line from every `#`). Speed is measured in bench/, not
here; these tests hold the rewritten guards to what the regexes they replace matched."""

from __future__ import annotations

import random
import re

from promoter.yamlio import fastyaml

# The guards as they were written before (quadratic on long lines, same language).
_OLD_COMMENT = re.compile(r"(?:^|[ ])#[^\n\"']*$", re.MULTILINE)
_OLD_SCALAR = r"""[ ]*(?:"[^"\\\n]*"|'[^'\n]*'|[^\s,\[\]{}:#"'&*!|>%@`?-][^,\[\]{}\n#:]*?)[ ]*"""
_OLD_FLAT_FLOW = re.compile(
    rf"(?:\[(?:{_OLD_SCALAR},)*(?:{_OLD_SCALAR},?)?\]|\{{(?:{_OLD_SCALAR}:[ ]{_OLD_SCALAR},)*(?:{_OLD_SCALAR}:[ ]{_OLD_SCALAR},?)?\}})"
    r"[ ]*(?:[ ]#[^\n]*)?(?:\n|\Z)"
)


def test_comments_are_stripped_as_the_regex_did() -> None:
    rng = random.Random(3)
    parts = ["#", " ", "a", '"', "'", "\n", "b #", "# ", "  #x"]
    for _ in range(20_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 20)))
        assert fastyaml._strip_quoteless_comments(text) == _OLD_COMMENT.sub("", text), repr(text)


def test_flat_flows_match_as_the_regex_did() -> None:
    rng = random.Random(5)
    parts = ["[", "{", "]", "}", ",", ": ", ":", " ", "  ", "a", "b c", '"x"', "'y'", "#", " #c", "\n", "-", "&"]
    for _ in range(5_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 14)))
        for i in range(len(text)):
            old, new = _OLD_FLAT_FLOW.match(text, i), fastyaml._FLAT_FLOW.match(text, i)
            assert (old and old.group()) == (new and new.group()), (text, i)


def test_hostile_long_lines_are_read_alike() -> None:
    # The inputs that were quadratic, at a size the old guards read in well under a second.
    for text in ("a: [c" + " " * 2_000 + "d]\n", 'a: "b yes' + " #c" * 1_000 + " '\"\n"):
        fast = fastyaml.documents(text)
        if fast is not None:
            from promoter.yamlio.manifests import _fast_documents

            assert fast == _fast_documents(text)


def _old_ends_in_header(chunk: str) -> bool:
    end = len(chunk.rstrip())
    while end > 0:
        start = chunk.rfind("\n", 0, end) + 1
        line = chunk[start:end]
        if not line.lstrip().startswith("#"):
            return fastyaml._HEADER_AT_END.search(line) is not None
        end = len(chunk[:start].rstrip())
    return False


def test_the_last_content_line_is_found_as_before() -> None:
    # (the old walk sliced and stripped what was left at each comment line: quadratic in a chunk
    # ending in many comment lines, 2.4 MB of `#c` lines took ~80 s)
    rng = random.Random(9)
    parts = ["a: |", "a: >-", "|", ">", "#c", " #c", "\n", " ", "  ", "x", "- |2", "[|]", "a: |  # c"]
    for _ in range(20_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        assert fastyaml._ends_in_header(text) == _old_ends_in_header(text), repr(text)

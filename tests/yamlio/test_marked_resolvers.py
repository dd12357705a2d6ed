"""The C-marks reader's YAML 1.2 resolvers are written out (importing ruamel to read them cost every
command ~14 ms): they must stay ruamel's round-trip table, entry for entry, or locating and editing
would read a scalar differently from the round-trip loader."""

from __future__ import annotations

import subprocess
import sys

from ruamel.yaml.resolver import VersionedResolver

from promoter.yamlio import marked


def test_the_written_out_table_is_ruamels() -> None:
    theirs = {
        k: [(str(tag), rx.pattern, rx.flags) for tag, rx in v]
        for k, v in VersionedResolver(version=(1, 2)).versioned_resolver.items()
        if k is not None
    }
    ours = {k: [(tag, rx.pattern, rx.flags) for tag, rx in v] for k, v in marked._TABLE.items()}
    assert ours == theirs


def test_loading_the_config_does_not_import_ruamel(tmp_path) -> None:
    (tmp_path / ".promoter.yaml").write_text("version: 1\nenvironments:\n  - name: dev\n")
    code = (
        "import sys; from pathlib import Path; from promoter.config.loader import load_config; "
        f"load_config(Path({str(tmp_path)!r})); print(sorted(m for m in sys.modules if m.startswith('ruamel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

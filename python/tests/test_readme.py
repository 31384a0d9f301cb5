"""The README's Python examples run as written, in order, from the repository."""

from __future__ import annotations

import re

import pytest
from conftest import REPO


def test_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) >= 3
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def test_the_readmes_hash_example_recomputes_as_an_auditor_would() -> None:
    """The worked example of the hash formula, taken from the README's text
    and hashed with the standard library only (no doseprep), as the README
    tells an auditor to: its array as written (the 64 zeros it abbreviates
    spelled out), through `json.dumps(..., separators=(",", ":"),
    ensure_ascii=False)`, gives the hash the README prints after it."""
    import hashlib
    import json

    readme = " ".join((REPO / "README.md").read_text().split())
    found = re.search(
        r"Worked example, checked by a test \(`event.rs`\): `(\[.*?\])` "
        r"\(64 zeros\) hashes to `([0-9a-f]{64})`",
        readme,
    )
    assert found, "the README's worked example moved; keep this test reading it"
    array = json.loads(found.group(1).replace("000…000", "0" * 64))
    assert array[6] == "0" * 64
    assert array[4] == "réception"
    text = json.dumps(array, separators=(",", ":"), ensure_ascii=False)
    # The array as the README writes it is that text, byte for byte.
    assert text == found.group(1).replace("000…000", "0" * 64)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == found.group(2)

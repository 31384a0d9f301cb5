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

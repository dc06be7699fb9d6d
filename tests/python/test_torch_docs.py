"""The examples of docs/python.md's sections on embedkit.optim and embedkit.torch run."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"
SECTIONS = ["## Optimizers: `embedkit.optim`", "## Inside PyTorch: `embedkit.torch`"]


def _examples():
    text = DOC.read_text()
    blocks = []
    for title in SECTIONS:
        start = text.index(title)
        end = text.find("\n## ", start + len(title))
        section = text[start:end if end != -1 else len(text)]
        blocks += re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return blocks


def test_the_sections_have_examples():
    assert len(_examples()) == 3


@pytest.mark.parametrize("index", range(3))
def test_example_runs(torch, tmp_path, monkeypatch, index):
    monkeypatch.chdir(tmp_path)  # the example saves a checkpoint
    exec(compile(_examples()[index], f"docs/python.md example {index}", "exec"), {})

"""The README's and the user guide's Python examples run: every ```python block that
is not marked ``no_run``, the blocks of one page in order in one namespace, from a
scratch directory in which ``data/`` is the repository's."""

import os
import re

FENCE = re.compile(r"^\s*```(.*)$")


def python_blocks(path):
    """(first line, code) of each runnable Python block of a Markdown page."""
    blocks, info, start, lines = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if fence and info is None:
            info, start, lines = fence.group(1).strip(), number, []
        elif fence:
            words = re.split(r"[ ,]", info)
            if words[0] == "python" and "no_run" not in words and "ignore" not in words:
                blocks.append((start, "\n".join(lines)))
            info = None
        elif info is not None:
            lines.append(line)
    return blocks


def pages(repo):
    return [repo / "README.md", *sorted((repo / "docs" / "src").glob("*.md"))]


def test_the_pages_have_python_examples(repo):
    assert sum(len(python_blocks(page)) for page in pages(repo)) >= 2


def test_python_examples_run(repo, tmp_path, monkeypatch):
    os.symlink(repo / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    for page in pages(repo):
        namespace = {"__name__": "__docs__"}
        for line, code in python_blocks(page):
            try:
                exec(compile(code, f"{page}:{line}", "exec"), namespace)
            except Exception as error:  # the page and line, then the error itself
                raise AssertionError(f"{page}:{line}: the Python block failed") from error

"""Repository hygiene: notebooks without outputs, no grading output or caches in git."""

import subprocess

import pytest

from tests.nbrun import ROOT, read_json, repo_notebooks


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"git ls-files failed: {result.stderr}")
    return result.stdout.splitlines()


@pytest.mark.parametrize("path", repo_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_has_no_outputs_or_execution_counts(path):
    nb = read_json(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {i} has outputs: clear them before committing"
            assert cell["execution_count"] is None, f"cell {i} has an execution count"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_no_grading_output_caches_or_environments_are_tracked():
    forbidden = (".grading/", "gradebook.db", "__pycache__/", ".ipynb_checkpoints/", ".venv/", ".pyc",
                 "/submitted/", "/autograded/", "/feedback/", ".nbgrader.log")
    tracked = tracked_files()
    assert tracked, "not a git checkout?"
    offenders = [f for f in tracked if any(bad in f"/{f}" for bad in forbidden)]
    assert not offenders


def test_every_data_file_and_loader_has_its_provenance_written_down():
    import re

    from nblib import data

    readme = (ROOT / "data" / "README.md").read_text()
    for f in tracked_files():
        if f.startswith("data/") and f != "data/README.md":
            assert f.removeprefix("data/") in readme, f"{f} is not described in data/README.md"
    loaders = re.findall(r"`nblib\.data\.(\w+)`", readme)
    assert {"digits", "iris", "breast_cancer"} <= set(loaders)
    for name in loaders:  # the README describes loaders that exist
        assert callable(getattr(data, name, None)), f"data/README.md names nblib.data.{name}, which does not exist"

"""Helpers for tests that execute notebooks with a real Jupyter kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".grading", ".ipynb_checkpoints", ".git", "build", ".artifacts", ".cache"}


def repo_notebooks() -> list[Path]:
    """Every notebook in the repository (outside virtualenvs, caches and grading output)."""
    return sorted(p for p in ROOT.rglob("*.ipynb") if not SKIP_DIRS & set(p.relative_to(ROOT).parts))


def execute(path: Path, *, allow_errors: bool = False, timeout: int = 300):
    """Run a notebook top to bottom in its own folder; returns the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def error_outputs(nb) -> list[tuple[int, dict]]:
    """(cell index, error output) for every cell that raised."""
    return [(i, out) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.output_type == "error"]


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))

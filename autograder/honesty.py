"""Flag answers that are nblib's own reference function, copied, and submissions that are identical.

The course is open, so a student can read nblib's source and paste the function an exercise
asks for (with the helpers it calls imported from nblib, the copy even runs). The grader
cannot prevent that (see the trust model in DESIGN.md), but it can tell the instructor:
:func:`notes` compares every top-level function in a submission's solution cells with nblib's
``@reference`` functions and returns one line for each near-verbatim copy.

A note accuses a student, so a false alarm costs more than a missed copy. Only a function
that equals a reference once names and layout are set aside is flagged (the rule is in
:func:`fingerprint`), and only when that reference has at least ``MIN_SIZE`` AST nodes: a
smaller one, ``return sigmoid(x)`` or ``s = sigmoid(x); return s * (1.0 - s)``, is what an
honest answer to the exercise looks like too, so matching it proves nothing. A copy whose
maths was then edited, or whose calls to nblib's input checks were deleted, is not flagged
either: what is left is the formula the exercise asks for, which honest answers share.

:func:`answers_fingerprint` is the other note: two submissions whose notebooks are the same,
character for character, with at least one answer changed from the released blank.
``grading.prepare`` writes both kinds into each submission's notes before it is graded.

Example
-------
>>> copied = '''
... def my_relu(z):
...     z = _float(z)
...     return np.maximum(z, 0).astype(z.dtype, copy=False)
...
... def my_softplus_derivative(z):
...     return sigmoid(z)
... '''
>>> copied_references(copied)  # the second is nblib's too, but too short to be evidence
[('my_relu', 'nblib.activations.relu')]
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import importlib.util
from pathlib import Path

__all__ = ["references", "fingerprint", "copied_references", "notes", "notes_for_folder", "blank_answers",
           "answers_fingerprint", "MIN_SIZE"]

MIN_SIZE = 20  # AST nodes in a reference's body, docstring aside; smaller ones prove nothing


@functools.cache
def references() -> dict[str, ast.FunctionDef]:
    """Every nblib function decorated with ``@reference``, by qualified name.

    Found by parsing nblib's sources, not by importing them: the decorator hides the
    original function. Keys look like ``"nblib.perceptron.train"``; the result is cached
    (do not modify it). A class marked ``@reference`` is left out: the answers compared are functions.
    """
    spec = importlib.util.find_spec("nblib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nblib is not installed: there are no reference functions to compare with")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(map(_is_reference, node.decorator_list)):
                found[f"{module}.{node.name}"] = node
    return found


def fingerprint(fn: ast.FunctionDef) -> str:
    """A function's code with its names and layout set aside, for comparing two functions.

    Two functions have the same fingerprint when they differ only in:

    - their name, decorators, docstring, comments, whitespace and line breaks;
    - the names of their parameters and local variables: every name the function binds
      (parameters, assignment and loop targets, ``with``/``except ... as``, comprehension
      variables, nested functions, imports) becomes ``_0``, ``_1``, ... in order of first
      appearance, the signature first. Every other name is kept (``np``, builtins, module
      constants, nblib's helpers), and so are attribute and keyword names:
      ``np.sum(x, axis=0)`` becomes ``np.sum(_0, axis=0)``;
    - how a private nblib helper is reached: ``optim._pair(w, g)`` is ``_pair(w, g)``;
    - type annotations, and the ``/`` and ``*`` markers of the signature: the parameters
      count in order, whatever their kind (``*args`` and ``**kwargs`` stay apart);
    - how a literal default is spelled: ``1e-2`` is ``0.01``, ``1`` is ``1.0``.

    Anything else, one operator, one constant, one axis, a statement more or less, makes a
    different fingerprint. The fingerprint is ``ast.dump`` of the normalised function.
    :func:`copied_references` compares it only with references of at least ``MIN_SIZE``
    nodes.
    """
    fn = copy.deepcopy(fn)
    bound = _bound_names(fn)
    params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
    defaults = [None] * (len(fn.args.posonlyargs) + len(fn.args.args) - len(fn.args.defaults))
    defaults += [*fn.args.defaults, *fn.args.kw_defaults]
    signature = [_default(d) for d in defaults]  # defaults live outside the function's scope
    renamer = _Renamer(bound)
    for p in [*params, fn.args.vararg, fn.args.kwarg]:
        if p is not None:
            p.arg, p.annotation = renamer.placeholder(p.arg), None
    body = [renamer.visit(statement) for statement in _without_docstrings(fn.body)]
    shape = ast.arguments(posonlyargs=[], args=params, vararg=fn.args.vararg, kwonlyargs=[],
                          kw_defaults=[], kwarg=fn.args.kwarg, defaults=[])
    return f"{ast.dump(shape)} defaults={signature} body={ast.dump(ast.Module(body=body, type_ignores=[]))}"


def copied_references(source: str) -> list[tuple[str, str]]:
    """``(function name, reference name)`` for each top-level function of ``source`` that is a
    copy of an nblib reference (see :func:`fingerprint`), in the order of the source.

    ``source`` is a notebook cell; IPython magics are turned into Python first (when IPython
    is installed). A cell that still does not parse gives ``[]``.
    """
    tree = _parse(source)
    if tree is None:
        return []
    by_fingerprint = _reference_fingerprints()
    matches = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            try:
                key = fingerprint(node)
            except RecursionError:  # absurdly deep code: not a copy of anything in nblib
                continue
            matches += [(node.name, name) for name in by_fingerprint.get(key, ())]
    return matches


def notes(cells: list[str]) -> list[str]:
    """One line for the instructor per copied reference in a submission's solution cells.

    >>> notes(["x = 1", "def broken(:"])
    []
    """
    lines = (
        f"`{function}` matches {reference} line for line (names, comments and whitespace aside): "
        f"review it for academic honesty"
        for source in cells
        for function, reference in copied_references(source)
    )
    return list(dict.fromkeys(lines))  # a function pasted into two cells is one note


# --- whole submissions ------------------------------------------------------------------------

def notes_for_folder(folder: Path, notebooks: list[str]) -> list[str]:
    """:func:`notes` for the code cells of a submission's graded ``notebooks``."""
    import nbformat

    sources = []
    for name in notebooks:
        try:
            sources += [c.source for c in nbformat.read(folder / name, as_version=4).cells if c.cell_type == "code"]
        except Exception:  # noqa: BLE001 - missing or unreadable: noted already
            continue
    return notes(sources)


def blank_answers(released: Path) -> dict[str, set[str]]:
    """Every cell text of each released notebook of a week, by file name."""
    import nbformat

    return {p.name: {c.source for c in nbformat.read(p, as_version=4).cells} for p in released.glob("*.ipynb")}


def answers_fingerprint(folder: Path, blanks: dict[str, set[str]]) -> str | None:
    """A hash of the whole notebook's text, or None when the answers are still the blanks."""
    import nbformat

    digest, changed = hashlib.sha256(), False
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = nbformat.read(path, as_version=4).cells
        except Exception:  # noqa: BLE001 - unreadable files are the normaliser's business
            continue
        blank = blanks.get(path.name, set())
        for cell in cells:
            digest.update(cell.source.encode() + b"\0")
            changed |= cell.get("metadata", {}).get("nbgrader", {}).get("solution", False) and cell.source not in blank
    return digest.hexdigest() if changed else None


# --- helpers ----------------------------------------------------------------------------------

def _is_reference(decorator: ast.expr) -> bool:
    """True for ``@reference`` and ``@_reference.reference``."""
    return (isinstance(decorator, ast.Name) and decorator.id == "reference") or (
        isinstance(decorator, ast.Attribute) and decorator.attr == "reference")


@functools.cache
def _reference_fingerprints() -> dict[str, tuple[str, ...]]:
    """Fingerprint -> the names of the references that have it, for references big enough."""
    found: dict[str, tuple[str, ...]] = {}
    for name, fn in references().items():
        if _size(fn) >= MIN_SIZE:
            key = fingerprint(fn)
            found[key] = (*found.get(key, ()), name)
    return found


def _size(fn: ast.FunctionDef) -> int:
    """The number of AST nodes in the body, docstring aside."""
    return sum(1 for statement in _without_docstrings(fn.body) for _ in ast.walk(statement))


def _without_docstrings(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that do something: bare string literals (docstrings) dropped."""
    return [s for s in body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]


def _default(node: ast.expr | None) -> str | None:
    """A default value by what it is: a literal by its value, anything else as written."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.dump(node)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def _bound_names(fn: ast.FunctionDef) -> set[str]:
    """Names the function binds anywhere inside it (its locals), minus ``global`` ones."""
    args = fn.args
    bound = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    declared_global = set()
    for node in ast.walk(ast.Module(body=fn.body, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
    return bound - declared_global


class _Renamer(ast.NodeTransformer):
    """Rename the function's own names to ``_0, _1, ...`` and drop annotations, in place."""

    def __init__(self, bound: set[str]):
        self.bound = bound
        self.names: dict[str, str] = {}

    def placeholder(self, name: str) -> str:
        if name not in self.bound:
            return name
        return self.names.setdefault(name, f"_{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.placeholder(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:  # lambdas and nested functions
        node.arg, node.annotation = self.placeholder(node.arg), None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name, node.returns = self.placeholder(node.name), None
        node.body = _without_docstrings(node.body) or [ast.Pass()]
        return self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name:
            node.name = self.placeholder(node.name)
        return self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> ast.alias:
        if node.asname:
            node.asname = self.placeholder(node.asname)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:
        if node.value is None:  # `x: int` alone declares nothing that runs
            return None
        return self.visit(ast.Assign(targets=[node.target], value=node.value, type_comment=None))

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        if private and _rooted_outside(node.value, self.bound):  # optim._pair -> _pair
            return ast.Name(id=node.attr, ctx=node.ctx)
        return self.generic_visit(node)


def _rooted_outside(node: ast.expr, bound: set[str]) -> bool:
    """True for ``a.b.c`` whose root ``a`` is a global name (a module, not a local)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in bound


def _parse(source: str) -> ast.Module | None:
    """The cell's syntax tree, IPython magics turned into calls first if need be; None if the
    cell is not Python."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return None
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except Exception:  # IPython's transformers may fail on anything that is not Python
        return None

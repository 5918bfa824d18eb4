"""Sympy expressions as a whitelisted JSON tree, in both directions.

A tree node is a list ``[name, *children]``. Leaves carry their data as
strings: ``["Symbol", "x"]``, ``["Integer", "3"]``, ``["Rational", "1", "2"]``,
``["Float", "0.25"]`` and the constants ``["pi"]``, ``["E"]``, ``["I"]``,
``["oo"]``, ``["zoo"]``, ``["nan"]``. Inner nodes name a whitelisted operation
(:data:`FUNCTIONS`). Rebuilding never evaluates (``evaluate=False``), so a
hostile tree such as ``10 ** 10 ** 9`` costs nothing to decode; integers and
names are length-bounded.

Encoding reads an expression's class names and ``args`` only, so it works
without importing sympy: the worker, which only ever encodes, does not pay
the 0.4 s that importing sympy costs (an expression can only exist there if
the student's code imported sympy already). Decoding imports sympy on first
use, for the same reason.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from grader.errors import ProtocolError

FUNCTIONS = frozenset({
    "Add", "Mul", "Pow", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "exp", "log", "Abs", "erf",
})
# sympy class name -> tree of that constant.
CONSTANT_CLASSES: dict[str, list[Any]] = {
    "Pi": ["pi"], "Exp1": ["E"], "ImaginaryUnit": ["I"], "Infinity": ["oo"],
    "NegativeInfinity": ["Mul", ["Integer", "-1"], ["oo"]], "ComplexInfinity": ["zoo"], "NaN": ["nan"],
}
CONSTANTS = ("pi", "E", "I", "oo", "zoo", "nan")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_INT = re.compile(r"-?[0-9]{1,1000}\Z")
MAX_DEPTH = 200
# Nodes in one expression: no answer of an assignment needs more, and sympy's
# printing of a wide sum costs time and memory quadratic in its terms.
MAX_NODES = 2000


def to_tree(expr: object) -> list[Any] | None:
    """The tree of a sympy expression, or None if it is not one we carry."""
    if "sympy" not in sys.modules or not type(expr).__module__.startswith("sympy."):
        return None
    try:
        return _to_tree(expr, 0)
    except (_Unsupported, RecursionError, AttributeError, TypeError, ValueError):
        return None


class _Unsupported(Exception):
    pass


def _to_tree(expr: Any, depth: int) -> list[Any]:
    name = type(expr).__name__
    if depth > MAX_DEPTH or not type(expr).__module__.startswith("sympy."):
        raise _Unsupported
    if name in CONSTANT_CLASSES:
        return CONSTANT_CLASSES[name]
    if expr.is_Symbol:
        return ["Symbol", str(expr.name)]
    if expr.is_Integer:
        return ["Integer", str(int(expr))]
    if expr.is_Rational:
        return ["Rational", str(int(expr.p)), str(int(expr.q))]
    if expr.is_Float:
        return ["Float", repr(float(expr))]
    if name not in FUNCTIONS:
        raise _Unsupported
    return [name, *(_to_tree(a, depth + 1) for a in expr.args)]


def from_tree(tree: Any, depth: int = 0) -> Any:
    """Rebuild a sympy expression from a tree; ProtocolError if it is not well formed."""
    import sympy  # on first use: see the module docstring

    if depth == 0 and _more_nodes_than(tree, MAX_NODES):
        raise ProtocolError(f"expression of more than {MAX_NODES} nodes")
    if depth > MAX_DEPTH:
        raise ProtocolError("expression nested too deeply")
    if not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
        raise ProtocolError("malformed expression node")
    name, args = tree[0], tree[1:]
    if name in CONSTANTS and not args:
        return {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo, "zoo": sympy.zoo, "nan": sympy.nan}[name]
    if name == "Symbol" and len(args) == 1 and isinstance(args[0], str) and _NAME.match(args[0]):
        return sympy.Symbol(args[0])
    if name == "Integer" and len(args) == 1 and _is_int(args[0]):
        return sympy.Integer(int(args[0]))
    if name == "Rational" and len(args) == 2 and _is_int(args[0]) and _is_int(args[1]) and int(args[1]) > 0:
        return sympy.Rational(int(args[0]), int(args[1]))
    if name == "Float" and len(args) == 1 and isinstance(args[0], str) and len(args[0]) < 40:
        try:
            return sympy.Float(float(args[0]))
        except ValueError as exc:
            raise ProtocolError("malformed float") from exc
    if name in FUNCTIONS and args:
        children = [from_tree(a, depth + 1) for a in args]
        return getattr(sympy, name)(*children, evaluate=False)
    raise ProtocolError(f"expression node {name!r} is not allowed")


def _more_nodes_than(tree: Any, limit: int) -> bool:
    """Whether ``tree`` has more than ``limit`` nodes (lists), counted without recursion and no further."""
    stack, count = [tree], 0
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            count += 1
            if count > limit:
                return True
            stack.extend(node)
    return False


def _is_int(value: object) -> bool:
    return isinstance(value, str) and bool(_INT.match(value))

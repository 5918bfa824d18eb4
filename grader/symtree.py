"""Sympy expressions as a whitelisted JSON tree, in both directions.

A tree node is a list ``[name, *children]``. Leaves carry their data as
strings: ``["Symbol", "x"]``, ``["Integer", "3"]``, ``["Rational", "1", "2"]``,
``["Float", "0.25"]`` and the constants ``["pi"]``, ``["E"]``, ``["I"]``,
``["oo"]``, ``["zoo"]``, ``["nan"]``. Inner nodes name a whitelisted operation
(:data:`FUNCTIONS`). Rebuilding never evaluates (``evaluate=False``), so a
hostile tree such as ``10 ** 10 ** 9`` costs nothing to decode; integers and
names are length-bounded.
"""

from __future__ import annotations

import re
from typing import Any

import sympy

from grader.errors import ProtocolError

FUNCTIONS: dict[str, Any] = {
    "Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "exp": sympy.exp, "log": sympy.log, "Abs": sympy.Abs, "erf": sympy.erf,
}
CONSTANTS: dict[str, Any] = {
    "pi": sympy.pi, "E": sympy.E, "I": sympy.I,
    "oo": sympy.oo, "zoo": sympy.zoo, "nan": sympy.nan,
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_INT = re.compile(r"-?[0-9]{1,1000}\Z")
MAX_DEPTH = 200


def to_tree(expr: object) -> list[Any] | None:
    """The tree of a sympy expression, or None if it is not one we carry."""
    if not isinstance(expr, sympy.Basic):
        return None
    try:
        return _to_tree(expr, 0)
    except (_Unsupported, RecursionError):
        return None


class _Unsupported(Exception):
    pass


def _to_tree(expr: sympy.Basic, depth: int) -> list[Any]:
    if depth > MAX_DEPTH:
        raise _Unsupported
    for name, constant in CONSTANTS.items():
        if expr == constant:
            return [name]
    if isinstance(expr, sympy.Symbol):
        return ["Symbol", expr.name]
    if isinstance(expr, sympy.Integer):
        return ["Integer", str(int(expr))]
    if isinstance(expr, sympy.Rational):
        return ["Rational", str(expr.p), str(expr.q)]
    if isinstance(expr, sympy.Float):
        return ["Float", repr(float(expr))]
    name = type(expr).__name__
    if name not in FUNCTIONS or FUNCTIONS[name] is not expr.func:
        raise _Unsupported
    return [name, *(_to_tree(a, depth + 1) for a in expr.args)]


def from_tree(tree: Any, depth: int = 0) -> sympy.Expr:
    """Rebuild a sympy expression from a tree; ProtocolError if it is not well formed."""
    if depth > MAX_DEPTH:
        raise ProtocolError("expression nested too deeply")
    if not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
        raise ProtocolError("malformed expression node")
    name, args = tree[0], tree[1:]
    if name in CONSTANTS and not args:
        return CONSTANTS[name]  # type: ignore[no-any-return]
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
        return FUNCTIONS[name](*children, evaluate=False)  # type: ignore[no-any-return]
    raise ProtocolError(f"expression node {name!r} is not allowed")


def _is_int(value: object) -> bool:
    return isinstance(value, str) and bool(_INT.match(value))

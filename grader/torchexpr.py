"""Function specifications rebuilt as differentiable torch callables.

Tests pass functions (`fn`) to the submission as a sympy expression; the
worker receives its tree (:mod:`grader.symtree`) and turns it into a torch
callable here, without sympy and without ``eval``. Constants stay Python
numbers, so a float32 input gives a float32 output.

Two kinds, as the assignment contract defines them:

- ``elementwise``: one variable; tensor in, tensor of the same shape out;
- ``vector``: k variables; a tensor whose last axis has length k in, the
  expression of its components out (0-d for a 1-D input).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import torch

from grader.errors import ProtocolError

Value = float | complex | torch.Tensor
Kind = Literal["elementwise", "vector"]

_UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "sin": (math.sin, torch.sin), "cos": (math.cos, torch.cos), "tan": (math.tan, torch.tan),
    "asin": (math.asin, torch.asin), "acos": (math.acos, torch.acos), "atan": (math.atan, torch.atan),
    "sinh": (math.sinh, torch.sinh), "cosh": (math.cosh, torch.cosh), "tanh": (math.tanh, torch.tanh),
    "exp": (math.exp, torch.exp), "log": (math.log, torch.log), "Abs": (abs, torch.abs),
    "erf": (math.erf, torch.erf),
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "E": math.e, "oo": math.inf, "nan": math.nan}


def evaluate(tree: Any, env: Mapping[str, torch.Tensor], depth: int = 0) -> Value:
    """Evaluate an expression tree with the variables bound in ``env``."""
    if depth > 200 or not isinstance(tree, list) or not tree:
        raise ProtocolError("malformed expression")
    name, args = tree[0], tree[1:]
    if name == "Symbol":
        if args[0] not in env:
            raise ProtocolError(f"unbound variable {args[0]!r}")
        return env[args[0]]
    if name == "Integer":
        return float(int(args[0]))
    if name == "Rational":
        return int(args[0]) / int(args[1])
    if name == "Float":
        return float(args[0])
    if name == "I":
        return 1j
    if name in _CONSTANTS:
        return _CONSTANTS[name]
    values = [evaluate(a, env, depth + 1) for a in args]
    if name == "Add":
        return _fold(values, lambda a, b: a + b)
    if name == "Mul":
        return _fold(values, lambda a, b: a * b)
    if name == "Pow" and len(values) == 2:
        base, exponent = values
        if isinstance(exponent, float) and exponent.is_integer() and abs(exponent) <= 64:
            exponent = int(exponent)  # x**2 stays defined (and differentiable) for x < 0
        return base**exponent
    if name in _UNARY and len(values) == 1:
        scalar_fn, tensor_fn = _UNARY[name]
        (arg,) = values
        result: Value = tensor_fn(arg) if isinstance(arg, torch.Tensor) else scalar_fn(arg)
        return result
    raise ProtocolError(f"operation {name!r} is not allowed")


def _fold(values: Sequence[Value], op: Callable[[Any, Any], Value]) -> Value:
    result = values[0]
    for value in values[1:]:
        result = op(result, value)
    return result


def build(kind: Kind, names: Sequence[str], tree: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """A torch callable for the expression ``tree`` in the variables ``names``."""
    if kind == "elementwise" and len(names) == 1:
        (name,) = names

        def elementwise(x: torch.Tensor) -> torch.Tensor:
            return _as_tensor(evaluate(tree, {name: x}), x)

        return elementwise
    if kind == "vector":
        def vector(v: torch.Tensor) -> torch.Tensor:
            if v.shape[-1:] != (len(names),):
                raise ValueError(f"expected a tensor with last axis of length {len(names)}, got shape {tuple(v.shape)}")
            env = {n: v[..., i] for i, n in enumerate(names)}
            return _as_tensor(evaluate(tree, env), v[..., 0])

        return vector
    raise ProtocolError(f"unknown function kind {kind!r}")


def _as_tensor(value: Value, like: torch.Tensor) -> torch.Tensor:
    """A constant expression still returns a tensor shaped (and connected) like the input."""
    if isinstance(value, torch.Tensor):
        return value
    return like * 0 + value


def from_node(node: Mapping[str, Any], buffers: list[bytes]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Codec extension: rebuild a ``{"t": "fn"}`` node as a torch callable."""
    kind, names = node.get("kind"), node.get("vars")
    if kind not in ("elementwise", "vector") or not isinstance(names, list) or not all(
        isinstance(n, str) for n in names
    ):
        raise ProtocolError("malformed function specification")
    return build(kind, names, node.get("expr"))

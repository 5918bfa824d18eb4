"""Function specifications that tests pass to the submission.

A test cannot hand a Python function to the worker; it hands an
:class:`Elementwise` or :class:`Vector` built from a sympy expression. The
specification is callable on the grader side too (for the reference solution
and for checks), through the same torch rebuild the worker uses, and it keeps
its sympy expression for exact answers (derivatives, Hessians, minima).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy
import torch

from grader import symtree, torchexpr
from grader.codec import WireSpec


class _Function(WireSpec):
    kind: torchexpr.Kind

    def __init__(self, expr: sympy.Expr | str | float, variables: Sequence[sympy.Symbol]) -> None:
        self.expr = sympy.sympify(expr)
        self.variables = tuple(variables)
        tree = symtree.to_tree(self.expr)
        if tree is None:
            raise ValueError(f"cannot send {self.expr} to the worker: unsupported operation")
        self.tree = tree
        self._call = torchexpr.build(self.kind, [v.name for v in self.variables], tree)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._call(x)

    def wire_node(self) -> dict[str, Any]:
        return {"t": "fn", "kind": self.kind, "vars": [v.name for v in self.variables], "expr": self.tree}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expr})"


class Elementwise(_Function):
    """An elementwise function of one variable: tensor in, same-shape tensor out."""

    kind = "elementwise"

    def __init__(self, expr: sympy.Expr | str | float, variable: sympy.Symbol | None = None) -> None:
        expr = sympy.sympify(expr)
        if variable is None:
            free = sorted(expr.free_symbols, key=lambda s: s.name)
            variable = free[0] if free else sympy.Symbol("x")
        super().__init__(expr, [variable])

    @property
    def variable(self) -> sympy.Symbol:
        """The expression's variable."""
        return self.variables[0]


class Vector(_Function):
    """A function of a 1-D tensor of shape ``(k,)`` to a 0-d tensor."""

    kind = "vector"

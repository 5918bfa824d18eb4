"""Function specifications that tests pass to the submission.

A test cannot hand a Python function to the worker; it hands an
:class:`Elementwise` or :class:`Vector` built from a sympy expression, or a
:class:`Law` to sample from. The
specification is callable on the grader side too (for the reference solution
and for checks), through the same torch rebuild the worker uses, and it keeps
its sympy expression for exact answers (derivatives, Hessians, minima).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sympy
import torch

from grader import samplers, symtree, torchexpr
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


class Law(WireSpec):
    """A probability law on the reals, passed as ``sample_entries(shape, generator)``.

    Callable like the sampler the worker rebuilds (float64 draws from the
    given generator); keeps its exact parameters for checks: :meth:`cdf` for
    continuous laws, :attr:`atoms` (value -> probability, as given, e.g.
    Fractions) for discrete ones.
    """

    def __init__(self, kind: str, **params: Any) -> None:
        self.kind = kind
        self.params = params
        self._sample = samplers.build(kind, self._wire_params())

    @classmethod
    def normal(cls, mean: float = 0.0, std: float = 1.0) -> Law:
        """The Gaussian law N(mean, std**2)."""
        return cls("normal", mean=mean, std=std)

    @classmethod
    def uniform(cls, low: float = -1.0, high: float = 1.0) -> Law:
        """The uniform law on [low, high]."""
        return cls("uniform", low=low, high=high)

    @classmethod
    def laplace(cls, loc: float = 0.0, scale: float = 1.0) -> Law:
        """The Laplace law with density exp(-|x - loc| / scale) / (2 scale)."""
        return cls("laplace", loc=loc, scale=scale)

    @classmethod
    def discrete(cls, values: Sequence[Any], probs: Sequence[Any]) -> Law:
        """A finite law: ``values[i]`` with probability ``probs[i]`` (ints or Fractions)."""
        return cls("discrete", values=list(values), probs=list(probs))

    @classmethod
    def rademacher(cls) -> Law:
        """+1 or -1 with probability 1/2 each."""
        return cls.discrete([-1, 1], [Fraction(1, 2), Fraction(1, 2)])

    @property
    def is_discrete(self) -> bool:
        """Whether the law is finite (has atoms) rather than continuous."""
        return self.kind == "discrete"

    @property
    def atoms(self) -> dict[Any, Any]:
        """Value -> probability of a discrete law, exactly as given."""
        if not self.is_discrete:
            raise ValueError(f"a {self.kind} law has no atoms")
        atoms: dict[Any, Any] = {}
        for value, prob in zip(self.params["values"], self.params["probs"], strict=True):
            atoms[value] = atoms.get(value, 0) + prob
        return atoms

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """P(X <= x), elementwise, float64."""
        x = x.to(torch.float64)
        p = {k: float(v) for k, v in self.params.items() if not isinstance(v, list)}
        if self.kind == "normal":
            return 0.5 * (1 + torch.erf((x - p["mean"]) / (p["std"] * math.sqrt(2))))
        if self.kind == "uniform":
            return ((x - p["low"]) / (p["high"] - p["low"])).clamp(0, 1)
        if self.kind == "laplace":
            z = (x - p["loc"]) / p["scale"]
            return torch.where(z < 0, 0.5 * torch.exp(z), 1 - 0.5 * torch.exp(-z))
        out = torch.zeros_like(x)
        for value, prob in self.atoms.items():
            out = out + float(prob) * (x >= float(value))
        return out

    def __call__(self, shape: Sequence[int], generator: torch.Generator) -> torch.Tensor:
        return self._sample(shape, generator)

    def _wire_params(self) -> dict[str, Any]:
        return {k: [float(x) for x in v] if isinstance(v, list) else float(v) for k, v in self.params.items()}

    def wire_node(self) -> dict[str, Any]:
        return {"t": "dist", "kind": self.kind, "params": self._wire_params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"Law.{self.kind}({args})"

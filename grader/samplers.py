"""Probability laws that tests pass to the submission, as torch samplers.

A test hands the worker a law (``{"t": "dist", "kind": ..., ...}`` on the
wire); both sides rebuild it here as ``sample(shape, generator) -> Tensor``,
float64, drawing only from the given ``torch.Generator``. Kinds:

- ``normal`` (``mean``, ``std``), ``uniform`` (``low``, ``high``),
  ``laplace`` (``loc``, ``scale``);
- ``discrete`` (``values``, ``probs``): a finite law, e.g. Rademacher
  ``values=[-1, 1], probs=[1/2, 1/2]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from grader.errors import ProtocolError

Sampler = Callable[[Sequence[int], torch.Generator], torch.Tensor]


def _shape(shape: Sequence[int] | int | torch.Size) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(n) for n in shape)


def build(kind: str, params: Mapping[str, Any]) -> Sampler:
    """The sampler of a law of the given kind and parameters."""
    f64 = torch.float64
    if kind == "normal":
        mean, std = float(params["mean"]), float(params["std"])
        return lambda shape, g: torch.randn(_shape(shape), generator=g, dtype=f64) * std + mean
    if kind == "uniform":
        low, high = float(params["low"]), float(params["high"])
        return lambda shape, g: torch.rand(_shape(shape), generator=g, dtype=f64) * (high - low) + low
    if kind == "laplace":
        loc, scale = float(params["loc"]), float(params["scale"])

        def laplace(shape: Sequence[int], g: torch.Generator) -> torch.Tensor:
            u = torch.rand(_shape(shape), generator=g, dtype=f64) - 0.5
            return loc - scale * torch.sign(u) * torch.log1p(-2 * u.abs())

        return laplace
    if kind == "discrete":
        values = torch.tensor([float(v) for v in params["values"]], dtype=f64)
        probs = torch.tensor([float(p) for p in params["probs"]], dtype=f64)
        if values.numel() != probs.numel() or values.numel() == 0 or bool((probs < 0).any()):
            raise ProtocolError("malformed discrete law")

        def discrete(shape: Sequence[int], g: torch.Generator) -> torch.Tensor:
            dims = _shape(shape)
            count = math.prod(dims)
            if count == 0:
                return torch.empty(dims, dtype=f64)
            index = torch.multinomial(probs, count, replacement=True, generator=g)
            return values[index].reshape(dims)

        return discrete
    raise ProtocolError(f"unknown law {kind!r}")


def from_node(node: Mapping[str, Any], buffers: list[bytes]) -> Sampler:
    """Codec extension: rebuild a ``{"t": "dist"}`` node as a sampler."""
    kind, params = node.get("kind"), node.get("params")
    if not isinstance(kind, str) or not isinstance(params, dict):
        raise ProtocolError("malformed law")
    try:
        return build(kind, params)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"malformed law: {exc}") from None

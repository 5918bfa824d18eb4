"""The submission as tests see it: attribute access and calls forwarded to the worker.

``submission.f(x)`` sends the call to the worker and returns the decoded
result, plain data only. ``submission.f.grad(x)`` returns the result and the
autograd derivative of its sum with respect to ``x``, computed in the worker;
``submission.f.with_args(...)`` returns the result and the arguments as they
are after the call, to check that the function left them alone.
"""

from __future__ import annotations

from typing import Any, Protocol

from grader.errors import BadResult
from grader.sandbox.session import Mode


class CallTarget(Protocol):
    """What the proxy sends calls to (a WorkerSession)."""

    def call(self, name: str, args: Any = (), kwargs: Any = None, mode: Mode = "value") -> Any:
        """Call the submission's function ``name``."""


class RemoteFunction:
    """A function defined by the submission's notebook."""

    def __init__(self, target: CallTarget, name: str) -> None:
        self._target = target
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target.call(self.__name__, args, kwargs)

    def grad(self, x: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``(f(x), d sum(f(x)) / dx)`` by autograd in the worker."""
        value = self._target.call(self.__name__, (x, *args), kwargs, mode="grad")
        return _checked(self.__name__, value, 2)

    def with_args(self, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        """``(result, args, kwargs)``, the arguments as the function left them."""
        value = self._target.call(self.__name__, args, kwargs, mode="args")
        result, after, kwargs_after = _checked(self.__name__, value, 3)
        return result, after, kwargs_after

    def __repr__(self) -> str:
        return f"<submission function {self.__name__}>"


class Submission:
    """The student's notebook: each attribute is a :class:`RemoteFunction`."""

    def __init__(self, target: CallTarget) -> None:
        self._target = target

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self._target, name)


def _checked(name: str, value: Any, size: int) -> tuple[Any, ...]:
    """The worker's reply for a special call mode: a tuple of ``size`` items."""
    if not (isinstance(value, tuple) and len(value) == size):
        raise BadResult(f"`{name}` produced a reply the grader cannot read")
    return value

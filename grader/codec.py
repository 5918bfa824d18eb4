"""The wire codec between the grader and the worker: plain data only.

A message is one frame: a 4-byte big-endian header length, a JSON header and
then raw buffers whose lengths the header lists. Values become a JSON tree;
JSON-native values (None, bools, ints, floats, strings, lists) stand for
themselves and everything else is a tagged object ``{"t": TAG, ...}``:
tuples, dicts with str keys, complex numbers, bytes, numeric numpy arrays,
torch tensors (raw bytes plus dtype and shape), Fractions, sympy expressions
(a whitelisted tree, see :mod:`grader.symtree`), exceptions as text, torch
generators (their state bytes), function specifications (grader to worker
only) and opaque stand-ins for anything else.

Decoding never unpickles and trusts no length or shape it has not checked
against the bytes actually received: a frame from the worker is hostile
input. Sizes and nesting are bounded on both sides.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from grader import symtree
from grader.errors import ProtocolError

MAX_HEADER_BYTES = 16 * 2**20
MAX_FRAME_BYTES = 256 * 2**20
MAX_DEPTH = 64
MAX_TEXT = 64 * 2**10
_LEN = struct.Struct(">I")

NUMPY_KINDS = frozenset("biufc")
TORCH_DTYPES: dict[str, torch.dtype] = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
        torch.float16, torch.bfloat16, torch.float32, torch.float64,
        torch.complex64, torch.complex128,
    )
}

_DTYPE_NAMES: dict[torch.dtype, str] = {d: name for name, d in TORCH_DTYPES.items()}
NUMPY_OF_TORCH: dict[torch.dtype, np.dtype[Any]] = {
    d: np.dtype(str(d).removeprefix("torch.")) for d in TORCH_DTYPES.values() if d is not torch.bfloat16
}


class WireSpec:
    """Base of grader-side objects that travel as a specification, not a value.

    Subclasses (function specifications in :mod:`grader.specs`) return the
    tagged node the worker rebuilds them from.
    """

    def wire_node(self) -> dict[str, Any]:
        """The JSON node that describes this object on the wire."""
        raise NotImplementedError


@dataclass(frozen=True)
class Opaque:
    """A stand-in for a value the wire format does not carry; equals nothing."""

    type_name: str
    text: str

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<unsupported value of type {self.type_name}>"


@dataclass(frozen=True)
class RemoteException:
    """An exception raised or returned in the worker, as text."""

    type_name: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + "... [truncated]"


def _safe_repr(obj: object) -> str:
    try:
        return _clip(repr(obj), 200)
    except BaseException:  # noqa: BLE001 - a hostile __repr__ may raise anything
        return "<repr failed>"


# --------------------------------------------------------------------------- encode


class _Encoder:
    """Turns a value into a JSON tree and a list of raw buffers."""

    def __init__(self) -> None:
        self.buffers: list[bytes] = []
        self.size = 0

    def buffer(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_FRAME_BYTES - MAX_HEADER_BYTES:
            raise _TooLarge
        self.buffers.append(data)
        return len(self.buffers) - 1

    def encode(self, obj: object, depth: int = 0) -> Any:
        if depth >= MAX_DEPTH:
            return _opaque(obj, "nested too deeply")
        kind = type(obj)
        if obj is None or kind is bool or kind is str:
            return obj
        if kind is int:
            return obj if abs(obj) < 10**4000 else _opaque(obj, "integer too large")  # type: ignore[arg-type]
        if kind is float:
            return obj
        if kind is list or kind is tuple:
            items = [self.encode(x, depth + 1) for x in obj]  # type: ignore[attr-defined]
            return items if kind is list else {"t": "tuple", "items": items}
        if kind is dict:
            if not all(type(k) is str for k in obj):  # type: ignore[attr-defined]
                return _opaque(obj, "dict with non-str keys")
            return {"t": "dict", "items": [[k, self.encode(v, depth + 1)] for k, v in obj.items()]}  # type: ignore[attr-defined]
        if isinstance(obj, torch.Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return self.ndarray(obj)
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), depth + 1) if obj.dtype.kind in NUMPY_KINDS else _opaque(obj)
        if kind is complex:
            return {"t": "complex", "re": obj.real, "im": obj.imag}  # type: ignore[attr-defined]
        if kind is bytes:
            return {"t": "bytes", "buf": self.buffer(obj)}  # type: ignore[arg-type]
        if kind is Fraction:
            return {"t": "fraction", "n": obj.numerator, "d": obj.denominator}  # type: ignore[attr-defined]
        if isinstance(obj, torch.Generator):
            return {"t": "generator", "buf": self.buffer(bytes(obj.get_state().numpy().tobytes()))}
        if isinstance(obj, WireSpec):
            return obj.wire_node()
        if isinstance(obj, BaseException):
            return {"t": "exception", "type": type(obj).__name__, "message": _clip(str(obj))}
        if isinstance(obj, RemoteException):
            return {"t": "exception", "type": obj.type_name, "message": obj.message}
        tree = symtree.to_tree(obj)
        if tree is not None:
            return {"t": "sympy", "tree": tree}
        # Subclasses of plain types travel as the plain value: np.float64 is a float, a
        # namedtuple or torch.Size a tuple, an OrderedDict (a state_dict()) a dict. Containers
        # are read through their base type, not through methods the subclass may override.
        for base in (bool, int, float, complex, str):
            if isinstance(obj, base):
                plain: object = base(obj)  # type: ignore[arg-type]
                return self.encode(plain, depth + 1)
        if isinstance(obj, dict):
            return self.encode(dict(dict.items(obj)), depth + 1)
        if isinstance(obj, list):
            return self.encode(list(list.__iter__(obj)), depth + 1)
        if isinstance(obj, tuple):
            return self.encode(tuple(tuple.__iter__(obj)), depth + 1)
        return _opaque(obj)

    def tensor(self, t: torch.Tensor) -> Any:
        if type(t) is not torch.Tensor:
            t = torch.Tensor.as_subclass(t, torch.Tensor)  # so a subclass's __torch_function__ is bypassed
        name = _DTYPE_NAMES.get(t.dtype)
        if name is None or t.layout is not torch.strided or t.is_quantized:
            return _opaque(t, f"tensor of dtype {str(t.dtype).removeprefix('torch.')}")
        return {"t": "tensor", "dtype": name, "shape": list(t.shape), "buf": self.buffer(_tensor_bytes(t))}

    def ndarray(self, a: np.ndarray[Any, Any]) -> Any:
        if a.dtype.kind not in NUMPY_KINDS or a.dtype.fields is not None:
            return _opaque(a, f"array of dtype {a.dtype}")
        a = np.ascontiguousarray(a)
        return {"t": "ndarray", "dtype": a.dtype.str, "shape": list(a.shape), "buf": self.buffer(a.tobytes())}


def _tensor_bytes(t: torch.Tensor) -> bytes:
    """A plain strided tensor's values, in C order, as raw bytes (numpy copies a view into order)."""
    if t.requires_grad:
        t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    t = t.resolve_conj().resolve_neg()  # lazy conjugate and negative views: the values they stand for
    if t.dtype is torch.bfloat16:  # numpy has no bfloat16: reinterpret as bytes
        return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
    return t.numpy().tobytes()


class _TooLarge(Exception):
    pass


def _opaque(obj: object, why: str = "") -> dict[str, Any]:
    name = type(obj).__name__
    return {"t": "opaque", "type": _clip(name, 100), "repr": why or _safe_repr(obj)}


def encode(message: object) -> tuple[Any, list[bytes]]:
    """Encode a message into a JSON-ready tree and its raw buffers."""
    encoder = _Encoder()
    try:
        tree = encoder.encode(message)
    except _TooLarge:
        return {"t": "opaque", "type": "value", "repr": "larger than the wire allows"}, []
    return tree, encoder.buffers


# --------------------------------------------------------------------------- decode

Extension = Callable[[Mapping[str, Any], list[bytes]], Any]


class _Decoder:
    """Turns a JSON tree and buffers back into values, checking everything."""

    def __init__(self, buffers: list[bytes], extensions: Mapping[str, Extension]) -> None:
        self.buffers = buffers
        self.extensions = extensions

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x, depth + 1) for x in node]
        if not isinstance(node, dict):
            raise ProtocolError(f"unexpected JSON node {type(node).__name__}")
        tag = node.get("t")
        if tag == "tensor":  # the commonest by far
            return self.tensor(node)
        if tag == "tuple":
            return tuple(self.decode(x, depth + 1) for x in _field(node, "items", list))
        if tag == "dict":
            out: dict[str, Any] = {}
            for pair in _field(node, "items", list):
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ProtocolError("malformed dict item")
                out[pair[0]] = self.decode(pair[1], depth + 1)
            return out
        if tag == "complex":
            return complex(_field(node, "re", (int, float)), _field(node, "im", (int, float)))
        if tag == "bytes":
            return self.buffer(node)
        if tag == "fraction":
            n, d = _field(node, "n", int), _field(node, "d", int)
            if d <= 0 or isinstance(n, bool) or isinstance(d, bool):
                raise ProtocolError("malformed fraction")
            return Fraction(n, d)
        if tag == "ndarray":
            return self.ndarray(node)
        if tag == "sympy":
            return symtree.from_tree(node.get("tree"))
        if tag == "exception":
            return RemoteException(
                _clip(_field(node, "type", str), 200),
                _clip(_field(node, "message", str)),
                _clip(node.get("traceback", "") if isinstance(node.get("traceback"), str) else ""),
            )
        if tag == "opaque":
            return Opaque(_clip(str(node.get("type", "?")), 100), _clip(str(node.get("repr", "")), 200))
        if isinstance(tag, str) and tag in self.extensions:
            return self.extensions[tag](node, self.buffers)
        raise ProtocolError(f"unknown value tag {tag!r}")

    def buffer(self, node: Mapping[str, Any]) -> bytes:
        index = _field(node, "buf", int)
        if not 0 <= index < len(self.buffers):
            raise ProtocolError("buffer index out of range")
        data: bytes = self.buffers[index]
        return data

    def shape(self, node: Mapping[str, Any]) -> tuple[int, ...]:
        shape = _field(node, "shape", list)
        if len(shape) > 32:
            raise ProtocolError("malformed shape")
        for n in shape:
            if type(n) is not int or n < 0:
                raise ProtocolError("malformed shape")
        return tuple(shape)

    def ndarray(self, node: Mapping[str, Any]) -> np.ndarray[Any, Any]:
        try:
            dtype = np.dtype(_field(node, "dtype", str))
        except TypeError as exc:
            raise ProtocolError("unknown array dtype") from exc
        if dtype.kind not in NUMPY_KINDS or dtype.fields is not None or dtype.hasobject:
            raise ProtocolError(f"array dtype {dtype} is not numeric")
        shape, data = self.shape(node), self.buffer(node)
        if math.prod(shape) * dtype.itemsize != len(data):
            raise ProtocolError("array shape does not match its data")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def tensor(self, node: Mapping[str, Any]) -> torch.Tensor:
        dtype = TORCH_DTYPES.get(_field(node, "dtype", str))
        if dtype is None:
            raise ProtocolError("unknown tensor dtype")
        shape, data = self.shape(node), self.buffer(node)
        if math.prod(shape) * dtype.itemsize != len(data):
            raise ProtocolError("tensor shape does not match its data")
        if not data:
            return torch.empty(shape, dtype=dtype)
        if dtype is torch.bfloat16:  # numpy has none
            return torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape)
        if dtype is torch.bool:  # any byte but 0 is True, stored as 1 (a byte 2 would count twice in a sum)
            return torch.from_numpy((np.frombuffer(data, dtype=np.uint8) != 0).reshape(shape))
        return torch.from_numpy(np.frombuffer(data, dtype=NUMPY_OF_TORCH[dtype]).reshape(shape).copy())


def _field(node: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = node.get(key)
    if not isinstance(value, kind):
        raise ProtocolError(f"malformed field {key!r}")
    return value


def decode(tree: Any, buffers: list[bytes], extensions: Mapping[str, Extension] | None = None) -> Any:
    """Decode a tree and buffers from :func:`encode`; raise ProtocolError on bad input."""
    try:
        return _Decoder(buffers, extensions or {}).decode(tree)
    except ProtocolError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ProtocolError(f"undecodable value: {type(exc).__name__}") from exc


def decode_generator(node: Mapping[str, Any], buffers: list[bytes]) -> torch.Generator:
    """Rebuild a torch.Generator from its state (checked by torch: a forged one is refused)."""
    state = _Decoder(buffers, {}).buffer(node)
    generator = torch.Generator()
    try:
        generator.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    except (RuntimeError, ValueError) as exc:
        raise ProtocolError("malformed generator state") from exc
    return generator


# --------------------------------------------------------------------------- frames


def pack(message: object) -> bytes:
    """Encode a message as one frame of bytes."""
    tree, buffers = encode(message)
    header = json.dumps({"v": tree, "buffers": [len(b) for b in buffers]}, allow_nan=True).encode()
    if len(header) > MAX_HEADER_BYTES:
        return pack({"t": "opaque", "type": "value", "repr": "larger than the wire allows"})
    return b"".join([_LEN.pack(len(header)), header, *buffers])


def unpack(head: Mapping[str, Any], payload: bytes, extensions: Mapping[str, Extension] | None = None) -> Any:
    """Decode a frame's parsed header and payload (as read by :class:`FrameReader`)."""
    buffers, offset = [], 0
    for n in head["buffers"]:
        buffers.append(payload[offset : offset + n])
        offset += n
    return decode(head.get("v"), buffers, extensions)


def parse_header(header: bytes) -> dict[str, Any]:
    """Parse and check a frame header: a JSON object with a list of buffer lengths."""
    try:
        head = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("frame header is not JSON") from exc
    lengths = head.get("buffers") if isinstance(head, dict) else None
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise ProtocolError("malformed frame header")
    if sum(lengths) > MAX_FRAME_BYTES:
        raise ProtocolError("frame too large")
    checked: dict[str, Any] = head
    return checked


def write_frame(fd: int, frame: bytes, deadline: float | None = None) -> None:
    """Write a whole frame to a file descriptor, giving up at the deadline."""
    view = memoryview(frame)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError("the peer is not reading")
        view = view[os.write(fd, view[: 1 << 20]) :]


class FrameReader:
    """Reads frames from a file descriptor with deadlines, validating lengths."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()

    def _fill(self, n: int, deadline: float | None) -> bool:
        while len(self.pending) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                    return False
            chunk = os.read(self.fd, max(n - len(self.pending), 1 << 16))
            if not chunk:
                raise EOFError("the peer closed the connection")
            self.pending += chunk
        return True

    def read(self, deadline: float | None = None) -> tuple[dict[str, Any], bytes] | None:
        """The next frame's (parsed header, payload), or None when the deadline passes first."""
        if not self._fill(_LEN.size, deadline):
            return None
        (size,) = _LEN.unpack_from(self.pending)
        if size > MAX_HEADER_BYTES:
            raise ProtocolError("frame header too large")
        if not self._fill(_LEN.size + size, deadline):
            return None
        head = parse_header(bytes(self.pending[_LEN.size : _LEN.size + size]))
        end = _LEN.size + size + sum(head["buffers"])
        if not self._fill(end, deadline):
            return None
        payload = bytes(self.pending[_LEN.size + size : end])
        del self.pending[:end]
        return head, payload

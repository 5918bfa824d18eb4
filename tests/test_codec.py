"""The wire codec: round trips, and hostile frames refused without pickle."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct
import time
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import pytest
import sympy
import torch

from grader import codec, symtree
from grader.errors import ProtocolError


def roundtrip(value: object) -> Any:
    read_fd, write_fd = os.pipe()
    try:
        codec.write_frame(write_fd, codec.pack(value))
        frame = codec.FrameReader(read_fd).read(time.monotonic() + 5)
        assert frame is not None
        return codec.unpack(*frame)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def frame(header: dict[str, Any], payload: bytes = b"") -> tuple[dict[str, Any], bytes]:
    return codec.parse_header(json.dumps(header).encode()), payload


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(10**30), 1.5, float("inf"), "汉字", [1, [2, [3]]], (1, "a"), {"k": (1, 2)},
     1 + 2j, b"\x00\xff", Fraction(-3, 7)],
)
def test_plain_values_round_trip(value: object) -> None:
    assert roundtrip(value) == value
    assert type(roundtrip(value)) is type(value)


def test_nan_round_trips_as_nan() -> None:
    assert np.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool, torch.bfloat16,
                                   torch.complex128, torch.uint8])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 1)])
def test_tensors_round_trip_exactly(dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    t = (torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape) * 1.25 - 1).to(dtype)
    back = roundtrip(t)
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_tensor_with_grad_and_noncontiguous_view() -> None:
    t = torch.arange(12.0, requires_grad=True).reshape(3, 4).T * 2
    back = roundtrip(t)
    assert not back.requires_grad and torch.equal(back, t.detach())


@pytest.mark.parametrize("view", [
    lambda: torch.tensor([1 + 2j, 3 - 1j]).conj(),  # a lazy conjugate view (used to fail to encode)
    lambda: torch.tensor([1 + 2j, 3 - 1j]).conj().imag,  # a lazy negative view
    lambda: torch.arange(10.0)[::3],
    lambda: torch.arange(6, dtype=torch.bfloat16).reshape(2, 3).T,
])
def test_views_travel_as_the_values_they_show(view: Any) -> None:
    t = view()
    back = roundtrip(t)
    assert back.dtype == t.dtype and back.shape == t.shape
    assert torch.equal(back, t.resolve_conj().resolve_neg())


def test_bool_bytes_other_than_0_and_1_arrive_as_true() -> None:
    node = {"t": "tensor", "dtype": "bool", "shape": [3], "buf": 0}
    head, payload = frame({"v": node, "buffers": [3]}, b"\x02\x00\xff")
    back = codec.unpack(head, payload)
    assert torch.equal(back, torch.tensor([True, False, True]))
    assert int(back.sum()) == 2 and back.view(torch.uint8).tolist() == [1, 0, 1]


def test_tensor_subclass_arrives_as_plain_tensor() -> None:
    class Rigged(torch.Tensor):
        def __eq__(self, other: object) -> bool:  # type: ignore[override]
            return True

    back = roundtrip(torch.zeros(2).as_subclass(Rigged))
    assert type(back) is torch.Tensor
    assert not bool((back == torch.ones(2)).any())


def test_container_subclasses_arrive_as_the_plain_container() -> None:
    """A state_dict() (an OrderedDict), a namedtuple, torch.Size: the contract's dict and tuple, not opaque values."""
    class Pair(NamedTuple):
        a: float
        b: float

    back = roundtrip(collections.OrderedDict(W1=torch.ones(2), b2=1.5))
    assert type(back) is dict and list(back) == ["W1", "b2"] and torch.equal(back["W1"], torch.ones(2))
    assert type(roundtrip(Pair(1.0, 2.0))) is tuple and roundtrip(Pair(1.0, 2.0)) == (1.0, 2.0)
    assert roundtrip(torch.Size([2, 3])) == (2, 3) and roundtrip(collections.defaultdict(int, a=1)) == {"a": 1}
    assert isinstance(roundtrip(collections.OrderedDict({1: 2})), codec.Opaque)  # keys must still be str


def test_container_subclasses_are_read_as_stored_not_as_their_methods_say() -> None:
    class Lying(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            return [("answer", 42)]

        def __iter__(self) -> Any:
            return iter(["answer"])

    class Longer(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            return iter(range(100))

    assert roundtrip(Lying(x=1)) == {"x": 1}
    assert roundtrip(Longer([1, 2])) == [1, 2]


def test_numpy_arrays_and_scalars() -> None:
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = roundtrip(a)
    assert back.dtype == np.int32 and np.array_equal(back, a)
    assert roundtrip(np.float64(2.5)) == 2.5 and type(roundtrip(np.float64(2.5))) is float


def test_sympy_expression_round_trips() -> None:
    x, y = sympy.symbols("x y")
    expr = sympy.Rational(1, 3) * x**2 + sympy.sin(sympy.pi * y) - sympy.exp(x)
    assert sympy.simplify(roundtrip(expr) - expr) == 0


def test_a_sympy_expression_too_large_to_print_is_refused() -> None:
    """A student's 30,000-term sum took gigabytes to print in a failing check's message; 2,000 nodes pass."""
    def decoded(expr: sympy.Expr) -> Any:
        return codec.decode(*codec.encode(expr))  # not through a pipe: the frame is larger than its buffer

    assert decoded(sympy.Add(*sympy.symbols(f"s0:{symtree.MAX_NODES - 1}"), evaluate=False)).is_Add
    with pytest.raises(ProtocolError, match="more than 2000 nodes"):
        decoded(sympy.Add(*sympy.symbols("s0:30000"), evaluate=False))


def test_unsupported_values_become_opaque_and_equal_nothing() -> None:
    class Rigged:
        def __eq__(self, other: object) -> bool:
            return True

    for value in (Rigged(), np.array([1, "a"], dtype=object), {1: "non-str key"}, {1, 2}):
        back = roundtrip(value)
        assert isinstance(back, codec.Opaque)
        assert back != back and not (back == 1) and not (back == back)


def test_exception_travels_as_text() -> None:
    back = roundtrip(ValueError("bad <value>"))
    assert isinstance(back, codec.RemoteException)
    assert back.type_name == "ValueError" and back.message == "bad <value>"


def test_generator_state_travels() -> None:
    g = torch.Generator().manual_seed(7)
    torch.rand(3, generator=g)
    back = codec.decode(*codec.encode(g), {"generator": codec.decode_generator})
    assert torch.equal(torch.rand(4, generator=back), torch.rand(4, generator=g))


def test_deep_nesting_is_cut_not_crashing() -> None:
    value: list[Any] = []
    for _ in range(codec.MAX_DEPTH + 10):
        value = [value]
    back = roundtrip(value)
    while isinstance(back, list):
        back = back[0]
    assert isinstance(back, codec.Opaque)


# ------------------------------------------------------------------ hostile frames


def test_object_array_node_is_refused() -> None:
    head, payload = frame({"v": {"t": "ndarray", "dtype": "|O", "shape": [1], "buf": 0}, "buffers": [8]}, b"\0" * 8)
    with pytest.raises(ProtocolError, match="not numeric"):
        codec.unpack(head, payload)


def test_pickle_payload_is_never_unpickled() -> None:
    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, ("echo pwned",))

    data = pickle.dumps(Boom())
    for dtype in ("|O", "O", "object"):
        head, payload = frame({"v": {"t": "ndarray", "dtype": dtype, "shape": [1], "buf": 0},
                               "buffers": [len(data)]}, data)
        with pytest.raises(ProtocolError):
            codec.unpack(head, payload)
    npy = io.BytesIO()
    np.save(npy, np.array([Boom()], dtype=object), allow_pickle=True)
    head, payload = frame({"v": {"t": "bytes", "buf": 0}, "buffers": [len(npy.getvalue())]}, npy.getvalue())
    assert codec.unpack(head, payload) == npy.getvalue()  # just bytes, never loaded


@pytest.mark.parametrize("node", [
    {"t": "tensor", "dtype": "float64", "shape": [10**6, 10**6], "buf": 0},   # forged shape
    {"t": "ndarray", "dtype": "<f8", "shape": [4], "buf": 0},                  # payload too short
    {"t": "tensor", "dtype": "object", "shape": [1], "buf": 0},
    {"t": "ndarray", "dtype": "V8", "shape": [1], "buf": 0},
    {"t": "ndarray", "dtype": "<f8", "shape": [-1], "buf": 0},
    {"t": "tensor", "dtype": "float64", "shape": [1], "buf": 5},
    {"t": "fraction", "n": 1, "d": 0},
    {"t": "dict", "items": [[1, 2]]},
    {"t": "nonsense"},
    {"t": "fn", "kind": "elementwise", "vars": ["x"], "expr": ["Symbol", "x"]},  # grader side has no fn decoder
    {"t": "sympy", "tree": ["__import__", ["Symbol", "os"]]},
    {"t": "sympy", "tree": ["Integer", "9" * 5000]},
])
def test_malformed_nodes_raise_protocol_error(node: dict[str, Any]) -> None:
    head, payload = frame({"v": node, "buffers": [8]}, b"\0" * 8)
    with pytest.raises(ProtocolError):
        codec.unpack(head, payload)


def test_huge_power_is_not_evaluated() -> None:
    tree = ["Pow", ["Integer", "10"], ["Pow", ["Integer", "10"], ["Integer", "9"]]]
    head, payload = frame({"v": {"t": "sympy", "tree": tree}, "buffers": []})
    start = time.perf_counter()
    value = codec.unpack(head, payload)
    assert time.perf_counter() - start < 1 and isinstance(value, sympy.Pow)


@pytest.mark.parametrize("raw", [
    struct.pack(">I", 2**31) + b"{}",                       # header length over the bound
    struct.pack(">I", 5) + b"nope!",                        # not JSON
    struct.pack(">I", 2) + b"[]",                           # not an object
    struct.pack(">I", 15) + b'{"buffers": -1}',             # bad buffer list
    struct.pack(">I", 27) + b'{"buffers": [999999999999]}',  # frame too large
])
def test_garbage_frames_are_refused(raw: bytes) -> None:
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, raw)
        with pytest.raises(ProtocolError):
            codec.FrameReader(read_fd).read(time.monotonic() + 2)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_reader_times_out_on_partial_frame_and_resumes() -> None:
    read_fd, write_fd = os.pipe()
    data = codec.pack([1, 2, 3])
    try:
        os.write(write_fd, data[:3])
        reader = codec.FrameReader(read_fd)
        assert reader.read(time.monotonic() + 0.05) is None
        os.write(write_fd, data[3:])
        got = reader.read(time.monotonic() + 2)
        assert got is not None and codec.unpack(*got) == [1, 2, 3]
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_reader_reports_eof() -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    with pytest.raises(EOFError):
        codec.FrameReader(read_fd).read(time.monotonic() + 1)
    os.close(read_fd)


def test_forged_generator_state_is_refused() -> None:
    head, payload = frame({"v": {"t": "generator", "buf": 0}, "buffers": [7]}, b"\0" * 7)
    with pytest.raises(ProtocolError):
        codec.unpack(head, payload, {"generator": codec.decode_generator})

"""Public tests for q6 (exercise 1): a small MLP and its equivalent parameterizations.

Small networks written out by hand; the expected values are exact (from
``math.tanh``, or by reading off the rows and entries).
"""

import math

import pytest
import torch

FORWARD_HINT = "mlp_forward: tanh(X @ W1.T + b1) @ w2 + b2, a tensor of shape (m,) in the input's dtype"
PERMUTE_HINT = "permute_hidden: new unit i is old unit perm[i] (W1 row, b1 and w2 entries); b2 unchanged"
EQUIVALENT_HINT = ("equivalent_parameterizations: every distinct dict reachable by permuting hidden units, "
                   "the original included")
NUM_HINT = "num_equivalent_minima: d! as a Python int; 2**d * d! with sign_symmetry=True"


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def tensor(values):
    return torch.tensor(values, dtype=torch.float64)


def network():
    """Three hidden units and two inputs; the units all differ."""
    return {
        "W1": tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]]),
        "b1": tensor([0.0, 0.5, -0.5]),
        "w2": tensor([1.0, -2.0, 3.0]),
        "b2": tensor(0.25),
    }


def expect_params(got, want, what):
    expect(isinstance(got, dict), f"{what} should be a dict, got {type(got).__name__}")
    expect(set(got) == {"W1", "b1", "w2", "b2"},
           f"{what} should have the keys 'W1', 'b1', 'w2', 'b2', got {sorted(got)}")
    for k in ("W1", "b1", "w2", "b2"):
        expect(isinstance(got[k], torch.Tensor) and got[k].dtype == torch.float64 and got[k].shape == want[k].shape,
               f"{what}['{k}'] should be a float64 tensor of shape {tuple(want[k].shape)}")
        expect(torch.equal(got[k], want[k]), f"{what}['{k}']: expected {want[k].tolist()}, got {got[k].tolist()}")


def as_set(family):
    return {tuple(tuple(p[k].reshape(-1).tolist()) for k in ("W1", "b1", "w2", "b2")) for p in family}


@pytest.mark.question("q6", part="mlp_forward", hint=FORWARD_HINT)
def test_mlp_forward_by_hand(submission):
    """Row [1, 0]: tanh(1) - 2 tanh(0.5) + 3 tanh(-1.5) + 0.25; row [0, 0]: -2 tanh(0.5) + 3 tanh(-0.5) + 0.25."""
    X = tensor([[1.0, 0.0], [0.0, 0.0]])
    got = submission.mlp_forward(network(), X)
    want = [math.tanh(1.0) - 2 * math.tanh(0.5) + 3 * math.tanh(-1.5) + 0.25,
            -2 * math.tanh(0.5) + 3 * math.tanh(-0.5) + 0.25]
    expect(isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (2,),
           f"mlp_forward should return a float64 tensor of shape (2,) for X of shape (2, 2), got {got!r:.80}")
    expect(torch.allclose(got, tensor(want), rtol=1e-12, atol=1e-12), f"expected {want}, got {got.tolist()}")


@pytest.mark.question("q6", part="mlp_forward", hint=FORWARD_HINT)
def test_mlp_forward_zero_weights(submission):
    """With W1 = 0 and b1 = 0 every hidden unit outputs tanh(0) = 0: the output is b2."""
    params = {"W1": torch.zeros(2, 3, dtype=torch.float64), "b1": torch.zeros(2, dtype=torch.float64),
              "w2": tensor([1.0, 1.0]), "b2": tensor(-0.5)}
    got = submission.mlp_forward(params, torch.ones(4, 3, dtype=torch.float64))
    expect(isinstance(got, torch.Tensor) and got.shape == (4,), f"expected a tensor of shape (4,), got {got!r:.80}")
    expect(torch.equal(got, tensor([-0.5] * 4)), f"expected [-0.5] * 4 (just b2), got {got.tolist()}")


@pytest.mark.question("q6", part="permute_hidden", hint=PERMUTE_HINT)
def test_permute_hidden_by_hand(submission):
    """perm = [2, 0, 1]: new unit 0 is old unit 2, new unit 1 is old unit 0, new unit 2 is old unit 1."""
    old = network()
    got = submission.permute_hidden(old, [2, 0, 1])
    want = {
        "W1": tensor([[-1.0, 1.0], [1.0, 0.0], [0.0, 2.0]]),
        "b1": tensor([-0.5, 0.0, 0.5]),
        "w2": tensor([3.0, 1.0, -2.0]),
        "b2": tensor(0.25),
    }
    expect_params(got, want, "permute_hidden(params, [2, 0, 1])")


@pytest.mark.question("q6", part="permute_hidden", hint=PERMUTE_HINT)
def test_permute_hidden_leaves_params_alone(submission):
    """The original dict and its tensors are unchanged after the call."""
    _, (after, _), _ = submission.permute_hidden.with_args(network(), [1, 2, 0])
    expect_params(after, network(), "params after permute_hidden(params, [1, 2, 0])")


@pytest.mark.question("q6", part="equivalent_parameterizations", hint=EQUIVALENT_HINT)
def test_equivalent_three_distinct_units(submission):
    """Three different units: 3! = 6 distinct dicts, the original among them."""
    got = submission.equivalent_parameterizations(network())
    expect(isinstance(got, list), f"expected a list of dicts, got {type(got).__name__}")
    expect(len(got) == 6, f"expected 3! = 6 dicts, got {len(got)}")
    expect(len(as_set(got)) == 6, "the 6 dicts should all be different")
    expect(as_set([network()]) <= as_set(got), "the original parameters should be in the list")


@pytest.mark.question("q6", part="equivalent_parameterizations", hint=EQUIVALENT_HINT)
def test_equivalent_two_identical_units(submission):
    """Two identical units (same W1 row, b1 and w2 entries): swapping them changes nothing, so just 1 dict."""
    params = {"W1": tensor([[1.0, -1.0], [1.0, -1.0]]), "b1": tensor([0.5, 0.5]),
              "w2": tensor([2.0, 2.0]), "b2": tensor(0.0)}
    got = submission.equivalent_parameterizations(params)
    expect(isinstance(got, list) and len(got) == 1, f"expected a list of 1 dict, got {got!r:.80}")
    expect(as_set(got) == as_set([params]), "the one dict should be the original parameters")


@pytest.mark.question("q6", part="num_equivalent_minima", hint=NUM_HINT)
def test_num_equivalent_minima_small(submission):
    """3! = 6; with the sign symmetry of tanh, 2**3 * 3! = 48."""
    got = submission.num_equivalent_minima(3)
    expect(type(got) is int and got == 6, f"num_equivalent_minima(3): expected the int 6, got {got!r}")
    got = submission.num_equivalent_minima(3, sign_symmetry=True)
    expect(type(got) is int and got == 48,
           f"num_equivalent_minima(3, sign_symmetry=True): expected the int 48, got {got!r}")

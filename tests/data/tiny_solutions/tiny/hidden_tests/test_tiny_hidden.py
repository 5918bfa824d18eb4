"""Hidden tests of the tiny assignment: they may use the reference."""

import pytest
import torch


@pytest.mark.question("q1", part="add", hint="add must handle negative numbers")
def test_add_negative(submission, reference):
    assert submission.add(-7, 3) == reference.add(-7, 3)


@pytest.mark.question("q2", part="square", hint="square must keep the dtype")
def test_square_float32(submission):
    x = torch.tensor([1.5, 2.0], dtype=torch.float32)
    result = submission.square(x)
    assert result.dtype == torch.float32 and torch.equal(result, x * x)

# %% global_minimum
from collections import namedtuple

Minimum = namedtuple('Minimum', 'x_star value')


def global_minimum(fn, lo, hi):
    cands = np.array([lo, hi] + local_minima(fn, lo, hi).tolist(), dtype=np.float64)
    vals = fn(torch.from_numpy(cands)).detach().numpy()
    i = int(np.argmin(vals))
    return Minimum(np.float64(cands[i]), np.float64(vals[i]))

# %% permute_hidden
from torch import nn


class MLP(nn.Module):
    def __init__(self, n, d, dtype=torch.float64):
        super().__init__()
        self.W1 = nn.Parameter(torch.zeros(d, n, dtype=dtype))
        self.b1 = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.w2 = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.b2 = nn.Parameter(torch.zeros((), dtype=dtype))


def permute_hidden(params, perm):
    d, n = params['W1'].shape
    net = MLP(n, d, params['W1'].dtype)
    p = torch.as_tensor(list(perm), dtype=torch.long)
    with torch.no_grad():
        net.W1.copy_(params['W1'][p]); net.b1.copy_(params['b1'][p])
        net.w2.copy_(params['w2'][p]); net.b2.copy_(params['b2'])
    return net.state_dict()        # OrderedDict with keys W1, b1, w2, b2 (detached clones)

# %% eigenvalue_sign_fractions
from typing import NamedTuple


class SignFractions(NamedTuple):
    positive: float
    negative: float
    zero: float


def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices).reshape(-1)
    n = lam.numel(); p = int((lam > tol).sum()); q = int((lam < -tol).sum())
    return SignFractions(p / n, q / n, (n - p - q) / n)

# %% exact_sign_probabilities_2x2
class SignProbs(NamedTuple):
    positive: Fraction
    negative: Fraction
    zero: Fraction


def exact_sign_probabilities_2x2(values, probs):
    law = [(Fraction(v), Fraction(p)) for v, p in zip(values, probs)]
    pos = neg = zero = Fraction(0)
    for (a, pa), (b, pb), (c, pc) in itertools.product(law, repeat=3):
        w = pa * pb * pc / 2  # each of the two eigenvalues is picked with probability 1/2
        tr, det = a + c, a * c - b * b
        for lam_sign in ((1, 1) if det > 0 and tr > 0 else (-1, -1) if det > 0 else (1, -1) if det < 0
                         else (0, 1 if tr > 0 else -1 if tr < 0 else 0)):
            if lam_sign > 0:
                pos += w
            elif lam_sign < 0:
                neg += w
            else:
                zero += w
    return SignProbs(pos, neg, zero)

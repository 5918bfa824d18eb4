import math, itertools
from fractions import Fraction
import torch
from torch.func import grad, hessian as _func_hessian, vmap, jvp

# %% f
def f(x):
    return torch.mul(x, torch.cos(torch.pi * x))

# %% g
def g(x):
    return torch.add(f(x), torch.cos((5 * torch.pi) * x), alpha=0.2)

# %% local_minima
def _dfn(fn, x):
    # derivative of an elementwise fn by one forward-mode jvp with a tangent of ones
    _, t = jvp(fn, (x,), (torch.ones_like(x),))
    return t


def local_minima(fn, lo, hi):
    lo, hi = float(lo), float(hi)
    n = max(40001, int(math.ceil((hi - lo) * 2000)) + 1)
    xs = torch.linspace(lo, hi, n, dtype=torch.float64)
    d = _dfn(fn, xs)
    s = torch.sign(d)
    # strict sign change - -> + between neighbours, or - 0 + around a grid point
    left_idx = torch.nonzero((s[:-1] < 0) & (s[1:] > 0)).flatten()
    mid = torch.nonzero((s[:-2] < 0) & (s[1:-1] == 0) & (s[2:] > 0)).flatten() + 1
    a = torch.cat([xs[left_idx], xs[mid]])
    b = torch.cat([xs[left_idx + 1], xs[mid]])
    exact = torch.cat([torch.zeros_like(xs[left_idx], dtype=torch.bool), torch.ones_like(xs[mid], dtype=torch.bool)])
    # vectorized bisection on all brackets at once
    for _ in range(64):
        m = 0.5 * (a + b)
        neg = _dfn(fn, m) < 0
        a = torch.where(neg | exact, torch.where(exact, a, m), a)
        b = torch.where(neg & ~exact, b, torch.where(exact, b, m))
    roots = torch.sort(0.5 * (a + b)).values
    roots = roots[(roots > lo) & (roots < hi)]
    if roots.numel() > 1:
        keep = torch.cat([torch.tensor([True]), torch.diff(roots) > 1e-9])
        roots = roots[keep]
    return roots.to(torch.float64)

# %% global_minimum
def global_minimum(fn, lo, hi):
    cand = torch.cat([torch.tensor([float(lo), float(hi)], dtype=torch.float64), local_minima(fn, lo, hi)])
    vals = fn(cand)
    k = int(torch.argmin(vals))
    return float(cand[k]), float(vals[k])

# %% hessian
def hessian(fn, x):
    return _func_hessian(fn)(x.detach()).to(x.dtype)

# %% classify_critical_point
def classify_critical_point(H, tol=1e-6):
    lam = torch.linalg.eigvalsh(H)
    pos, neg = bool((lam > tol).any()), bool((lam < -tol).any())
    return ('saddle' if pos and neg else
            'minimum' if bool((lam > tol).all()) else
            'maximum' if bool((lam < -tol).all()) else
            'degenerate')

# %% derivative
def derivative(fn, x):
    flat = x.detach().reshape(-1)
    d = vmap(grad(fn))(flat)
    return d.reshape(x.shape).to(x.dtype)

# %% gradient_descent
def gradient_descent(fn, x0, lr, num_steps):
    step = grad(fn)
    xs = [x0.detach()]
    for _ in range(num_steps):
        xs.append(xs[-1] - lr * step(xs[-1]))
    return torch.stack(xs).detach().clone()

# %% mlp_forward
def mlp_forward(params, X):
    return torch.einsum('md,d->m', torch.tanh(torch.einsum('mn,dn->md', X, params['W1']) + params['b1']), params['w2']) + params['b2']

# %% permute_hidden
def permute_hidden(params, perm):
    idx = torch.as_tensor(perm, dtype=torch.long)
    return {'W1': params['W1'].index_select(0, idx), 'b1': params['b1'].index_select(0, idx),
            'w2': params['w2'].index_select(0, idx), 'b2': params['b2'].clone()}

# %% equivalent_parameterizations
def equivalent_parameterizations(params):
    units = torch.cat([params['W1'], params['b1'][:, None], params['w2'][:, None]], dim=1)
    d = units.shape[0]
    if d == 0:
        return [permute_hidden(params, [])]
    perms = torch.tensor(list(itertools.permutations(range(d))), dtype=torch.long)
    stacked = units[perms]                     # (d!, d, n + 2)
    flat = stacked.reshape(stacked.shape[0], -1)
    # distinct rows in first-occurrence order (identity permutation is row 0)
    same = (flat[:, None, :] == flat[None, :, :]).all(-1)
    first = same.int().argmax(dim=1)
    keep = first == torch.arange(flat.shape[0])
    return [permute_hidden(params, p) for p in perms[keep]]

# %% num_equivalent_minima
def num_equivalent_minima(d, sign_symmetry=False):
    return math.factorial(d) << (d if sign_symmetry else 0)

# %% sample_symmetric_matrices
def sample_symmetric_matrices(num, n, sample_entries, generator):
    iu = torch.triu_indices(n, n)
    vals = sample_entries((num, iu.shape[1]), generator)
    M = vals.new_zeros((num, n, n))
    M[:, iu[0], iu[1]] = vals
    M[:, iu[1], iu[0]] = vals
    return M

# %% eigenvalue_sign_fractions
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices).flatten()
    pos = (lam > tol).double().mean()
    neg = (lam < -tol).double().mean()
    return float(pos), float(neg), float(1.0 - pos - neg)

# %% exact_sign_probabilities_2x2
def exact_sign_probabilities_2x2(values, probs):
    law = [(Fraction(v), Fraction(p)) for v, p in zip(values, probs)]
    out = {1: Fraction(0), -1: Fraction(0), 0: Fraction(0)}
    sgn = lambda q: (q > 0) - (q < 0)
    for (a, pa), (b, pb), (c, pc) in itertools.product(law, repeat=3):
        p = pa * pb * pc
        det, tr = a * c - b * b, a + c
        if det < 0:
            signs = (1, -1)
        elif det > 0:
            signs = (sgn(tr), sgn(tr))
        else:
            signs = (0, sgn(tr))
        for s in signs:
            out[s] += p / 2
    return out[1], out[-1], out[0]

# %% zero_eigenvalue_counterexample
def zero_eigenvalue_counterexample():
    return [-2, 0, 2], [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)]

# %% saddle_escape_steps
def saddle_escape_steps(eps, lr):
    # closed form: y_t = (1 + 2 lr)^t eps; then make sure the boundary is right with the GD step
    if abs(eps) >= 1:
        return 0
    q = 1 + 2 * lr
    if eps == 0 or abs(q) <= 1:
        return None
    t = max(0, math.ceil(math.log(1 / abs(eps)) / math.log(abs(q))) - 2)
    y = float(eps)
    for _ in range(t):
        y = y - lr * (-2 * y)
    while abs(y) < 1:
        y = y - lr * (-2 * y)
        t += 1
    return int(t)

# %% perturbed_gradient_descent
def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
    step = grad(fn)
    xs = [x0.detach()]
    for _ in range(num_steps):
        x = xs[-1]
        xs.append(x - lr * step(x) + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device))
    return torch.stack(xs).detach().clone()

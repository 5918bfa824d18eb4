# %% f
def f(x):
    return x * torch.cos(math.pi * x)

# %% g
def g(x):
    return x * torch.cos(math.pi * x) + 0.2 * torch.cos(5 * math.pi * x)

# %% local_minima
def local_minima(fn, lo, hi):
    lo, hi = float(lo), float(hi)
    n = max(40001, int((hi - lo) * 4000) + 1)
    xs = torch.linspace(lo, hi, n, dtype=torch.float64)
    xg = xs.clone().requires_grad_(True)
    (d,) = torch.autograd.grad(fn(xg).sum(), xg)
    left = torch.nonzero((d[:-1] < 0) & (d[1:] > 0)).flatten()
    ex = torch.nonzero((d[1:-1] == 0) & (d[:-2] < 0) & (d[2:] > 0)).flatten() + 1
    a, b = xs[left].clone(), xs[left + 1].clone()
    for _ in range(70):
        m = ((a + b) / 2).requires_grad_(True)
        (dm,) = torch.autograd.grad(fn(m).sum(), m)
        a = torch.where(dm < 0, m.detach(), a); b = torch.where(dm < 0, b, m.detach())
    r = torch.sort(torch.cat([(a + b) / 2, xs[ex]])).values
    return r[(r > lo) & (r < hi)]

# %% global_minimum
def global_minimum(fn, lo, hi):
    c = torch.cat([torch.tensor([float(lo), float(hi)], dtype=torch.float64), local_minima(fn, lo, hi)])
    v = fn(c)
    k = int(torch.argmin(v))
    return float(c[k]), float(v[k])

# %% hessian
def hessian(fn, x):
    # keeps the graph (create_graph=True): the Hessian itself is differentiable
    return torch.autograd.functional.hessian(fn, x.detach().clone().requires_grad_(True), create_graph=True).to(x.dtype)

# %% classify_critical_point
def classify_critical_point(H, tol=1e-6):
    lam = torch.linalg.eigvalsh(H)
    pos, neg = (lam > tol), (lam < -tol)
    if pos.any() and neg.any():
        return 'saddle'
    if pos.all():
        return 'minimum'
    if neg.all():
        return 'maximum'
    return 'degenerate'

# %% derivative
def derivative(fn, x):
    # differentiable derivative (create_graph=True), so second derivatives are possible
    xx = x.detach().clone().requires_grad_(True)
    y = fn(xx)
    (d,) = torch.autograd.grad(y, xx, torch.ones_like(y), create_graph=True)
    return d

# %% gradient_descent
def gradient_descent(fn, x0, lr, num_steps):
    # built time-last, returned as a (non-contiguous) view with time first
    out = torch.empty(tuple(x0.shape) + (num_steps + 1,), dtype=x0.dtype)
    x = x0.detach().clone()
    out[..., 0] = x
    for t in range(num_steps):
        xr = x.clone().requires_grad_(True)
        (gr,) = torch.autograd.grad(fn(xr), xr)
        x = x - lr * gr
        out[..., t + 1] = x
    return out.movedim(-1, 0)

# %% mlp_forward
def mlp_forward(params, X):
    return torch.tanh(X @ params['W1'].T + params['b1']) @ params['w2'] + params['b2']

# %% permute_hidden
def permute_hidden(params, perm):
    p = [int(i) for i in perm]
    return {'W1': params['W1'][p].T.contiguous().T, 'b1': params['b1'][p], 'w2': params['w2'][p], 'b2': params['b2'].clone()}

# %% equivalent_parameterizations
def equivalent_parameterizations(params):
    d = params['W1'].shape[0]
    out, keys = [], set()
    for perm in itertools.permutations(range(d)):
        q = permute_hidden(params, perm)
        key = tuple(map(tuple, torch.cat([q['W1'], q['b1'][:, None], q['w2'][:, None]], 1).tolist()))
        if key not in keys:
            keys.add(key)
            out.append(q)
    return out

# %% num_equivalent_minima
def num_equivalent_minima(d, sign_symmetry=False):
    return math.factorial(d) * 2 ** d if sign_symmetry else math.factorial(d)

# %% sample_symmetric_matrices
def sample_symmetric_matrices(num, n, sample_entries, generator):
    iu = torch.triu_indices(n, n)
    vals = sample_entries([num, iu.shape[1]], generator)   # a list is a valid torch shape
    M = torch.zeros((num, n, n), dtype=vals.dtype)
    M[:, iu[0], iu[1]] = vals
    M[:, iu[1], iu[0]] = vals
    return M

# %% eigenvalue_sign_fractions
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices).flatten()
    n = lam.numel()
    p = int((lam > tol).sum()); q = int((lam < -tol).sum())
    return np.float64(p / n), np.float64(q / n), np.float64((n - p - q) / n)

# %% exact_sign_probabilities_2x2
def exact_sign_probabilities_2x2(values, probs):
    pos = neg = zero = Fraction(0)
    V = [Fraction(v) for v in values]; P = [Fraction(p) for p in probs]
    for (a, pa), (b, pb), (c, pc) in itertools.product(list(zip(V, P)), repeat=3):
        w = pa * pb * pc
        det, tr = a * c - b * b, a + c
        for lam_sign in ((1, -1) if det < 0 else ((tr > 0) - (tr < 0),) * 2 if det > 0 else (0, (tr > 0) - (tr < 0))):
            if lam_sign > 0: pos += w / 2
            elif lam_sign < 0: neg += w / 2
            else: zero += w / 2
    return pos, neg, zero

# %% zero_eigenvalue_counterexample
def zero_eigenvalue_counterexample():
    return [-1, 0, 1], [Fraction(1, 3)] * 3

# %% saddle_escape_steps
def saddle_escape_steps(eps, lr):
    if abs(eps) >= 1:
        return 0
    if eps == 0 or abs(1 + 2 * lr) <= 1:
        return None
    y, t = float(eps), 0
    while abs(y) < 1:
        y -= lr * (-2 * y)
        t += 1
    return t

# %% perturbed_gradient_descent
def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
    # the noise is drawn in double precision and rounded to x0's dtype
    x = x0.detach().clone()
    rows = [x]
    for _ in range(num_steps):
        xr = x.clone().requires_grad_(True)
        (gr,) = torch.autograd.grad(fn(xr), xr)
        z = torch.randn(tuple(x0.shape), generator=generator, dtype=torch.float64).to(x0.dtype)
        x = x - lr * gr + noise_std * z
        rows.append(x)
    return torch.stack(rows)

import functools
import torch.autograd.forward_ad as fwAD

# %% f
def f(x):
    c = torch.cos(x * math.pi)
    return c * x

# %% g
def g(x):
    return f(x) + torch.cos(x * (5.0 * math.pi)) / 5

# %% local_minima
_INV_PHI = (math.sqrt(5) - 1) / 2


def _d1_d2(fn, t):
    """First and second derivative of the elementwise fn at the float t (nested autograd)."""
    x = torch.tensor(t, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(fn(x), x, create_graph=True)
    if d1.requires_grad:
        (d2,) = torch.autograd.grad(d1, x, allow_unused=True)
        d2 = 0.0 if d2 is None else float(d2)
    else:
        d2 = 0.0
    return float(d1.detach()), d2


def _golden(fn, a, b, iters=60):
    """Golden-section search for the minimiser of fn on [a, b]."""
    val = lambda t: float(fn(torch.tensor(t, dtype=torch.float64)))
    c, d = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
    fc, fd = val(c), val(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - _INV_PHI * (b - a)
            fc = val(c)
        else:
            a, c, fc = c, d, fd
            d = a + _INV_PHI * (b - a)
            fd = val(d)
    return (a + b) / 2, a, b


def _newton_polish(fn, x, a, b, steps=30):
    """Safeguarded Newton on fn' inside the bracket [a, b] (fn'(a) < 0 < fn'(b))."""
    for _ in range(steps):
        d1, d2 = _d1_d2(fn, x)
        if d1 == 0:
            break
        if d1 < 0:
            a = x
        else:
            b = x
        x_new = x - d1 / d2 if d2 > 0 else (a + b) / 2
        if not (a < x_new < b):
            x_new = (a + b) / 2
        if abs(x_new - x) < 1e-15:
            x = x_new
            break
        x = x_new
    return x


def local_minima(fn, lo, hi):
    lo, hi = float(lo), float(hi)
    n = max(6001, int(math.ceil((hi - lo) / 1e-3)) + 1)
    xs = torch.linspace(lo, hi, n, dtype=torch.float64)
    with torch.no_grad():
        v = fn(xs)
    found = []
    for i in range(1, n - 1):
        if v[i - 1] > v[i] and v[i] <= v[i + 1]:
            a, b = float(xs[i - 1]), float(xs[i + 1])
            x, a2, b2 = _golden(fn, a, b, iters=40)
            # make a valid derivative bracket around the golden-section estimate
            da, _ = _d1_d2(fn, a)
            db, _ = _d1_d2(fn, b)
            if not (da < 0 < db):
                continue
            x = _newton_polish(fn, x, a, b)
            d1, d2 = _d1_d2(fn, x)
            if d2 > 0 and lo < x < hi:
                found.append(x)
    found.sort()
    dedup = functools.reduce(lambda acc, r: acc if acc and abs(r - acc[-1]) < 1e-8 else acc + [r], found, [])
    return torch.tensor(dedup, dtype=torch.float64)

# %% global_minimum
def global_minimum(fn, lo, hi):
    cands = [float(lo), float(hi)] + local_minima(fn, lo, hi).tolist()
    return min(((c, float(fn(torch.tensor(c, dtype=torch.float64)))) for c in cands), key=lambda p: p[1])

# %% hessian
def hessian(fn, x):
    def grad_fn(v):
        (gr,) = torch.autograd.grad(fn(v), v, create_graph=True)
        return gr
    leaf = x.detach().clone().requires_grad_(True)
    H = torch.autograd.functional.jacobian(lambda v: grad_fn(v), leaf)
    return H.detach().to(x.dtype)

# %% classify_critical_point
def classify_critical_point(H, tol=1e-6):
    lam, _ = torch.linalg.eigh(H.detach())
    above, below = lam > tol, lam < -tol
    if above.any() and below.any():
        return 'saddle'
    if above.all():
        return 'minimum'
    if below.all():
        return 'maximum'
    return 'degenerate'

# %% derivative
def derivative(fn, x):
    """Forward-mode AD with dual numbers: tangent of ones for an elementwise fn."""
    primal = x.detach().clone()
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, torch.ones_like(primal))
        out = fn(dual)
        tangent = fwAD.unpack_dual(out).tangent
    if tangent is None:
        return torch.zeros_like(primal)
    return tangent.detach().to(x.dtype).reshape(x.shape)

# %% gradient_descent
def gradient_descent(fn, x0, lr, num_steps):
    out = torch.empty((num_steps + 1,) + tuple(x0.shape), dtype=x0.dtype)
    out[0] = x0.detach()
    t = 0
    while t < num_steps:
        x = out[t].clone().requires_grad_(True)
        fn(x).backward()
        out[t + 1] = (x - lr * x.grad).detach()
        t += 1
    return out

# %% mlp_forward
def mlp_forward(params, X):
    W1, b1, w2, b2 = params['W1'], params['b1'], params['w2'], params['b2']
    pre = torch.addmm(b1.unsqueeze(0), X, W1.t())
    return torch.mv(torch.tanh(pre), w2) + b2

# %% permute_hidden
def permute_hidden(params, perm):
    """Reindex with a one-hot permutation matrix P (P[i, perm[i]] = 1): new = P @ old."""
    W1 = params['W1']
    d = W1.shape[0]
    P = torch.zeros((d, d), dtype=W1.dtype)
    for i, p in enumerate(perm):
        P[i, int(p)] = 1
    return {'W1': P @ W1, 'b1': P @ params['b1'], 'w2': P @ params['w2'], 'b2': params['b2'] + 0}

# %% equivalent_parameterizations
def equivalent_parameterizations(params):
    d = params['W1'].shape[0]
    def stacked(p):
        return torch.cat([p['W1'], p['b1'].unsqueeze(1), p['w2'].unsqueeze(1)], dim=1)
    out, keys = [], []
    for perm in itertools.permutations(range(d)):
        q = {'W1': params['W1'][list(perm)], 'b1': params['b1'][list(perm)], 'w2': params['w2'][list(perm)],
             'b2': params['b2'].clone()}
        s = stacked(q)
        if any(torch.equal(s, k) for k in keys):
            continue
        keys.append(s)
        out.append(q)
    return out

# %% num_equivalent_minima
def num_equivalent_minima(d, sign_symmetry=False):
    perms = math.factorial(d)
    signs = 2 ** d if sign_symmetry else 1
    return perms * signs

# %% sample_symmetric_matrices
def sample_symmetric_matrices(num, n, sample_entries, generator):
    # draw column by column (j outer, i <= j inner), one call per free entry
    M = None
    for j in range(n):
        for i in range(j + 1):
            v = sample_entries((num,), generator)
            if M is None:
                M = torch.zeros((num, n, n), dtype=v.dtype)
            M[:, i, j] = v
            if i != j:
                M[:, j, i] = v
    return M if M is not None else torch.zeros((num, 0, 0), dtype=torch.float64)

# %% eigenvalue_sign_fractions
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    counts = [0, 0, 0]
    for M in matrices:
        lam = torch.linalg.eigvalsh(M)
        counts[0] += int((lam > tol).sum())
        counts[1] += int((lam < -tol).sum())
        counts[2] += int((lam.abs() <= tol).sum())
    total = sum(counts)
    fr = [Fraction(c, total) for c in counts]
    return tuple(float(x) for x in fr)

# %% exact_sign_probabilities_2x2
def _eig_signs(a, b, c):
    """Signs of the two eigenvalues (tr +- sqrt(D)) / 2 of [[a, b], [b, c]], exactly:
    D = (a - c)^2 + 4 b^2 >= 0; compare sqrt(D) with |tr| by squares."""
    tr = a + c
    D = (a - c) ** 2 + 4 * b * b
    def sign_plus():    # sign of tr + sqrt(D)
        if tr >= 0:
            return 0 if (tr == 0 and D == 0) else 1
        return 1 if D > tr * tr else (0 if D == tr * tr else -1)
    def sign_minus():   # sign of tr - sqrt(D)
        if tr <= 0:
            return 0 if (tr == 0 and D == 0) else -1
        return -1 if D > tr * tr else (0 if D == tr * tr else 1)
    return sign_plus(), sign_minus()


def exact_sign_probabilities_2x2(values, probs):
    V = [Fraction(v) for v in values]
    Pr = [Fraction(p) for p in probs]
    tot = {1: Fraction(0), -1: Fraction(0), 0: Fraction(0)}
    for i, j, k in itertools.product(range(len(V)), repeat=3):
        w = Pr[i] * Pr[j] * Pr[k]
        for s in _eig_signs(V[i], V[j], V[k]):
            tot[s] += w * Fraction(1, 2)
    return (tot[1], tot[-1], tot[0])

# %% zero_eigenvalue_counterexample
def zero_eigenvalue_counterexample():
    return ([Fraction(-1, 2), Fraction(0), Fraction(1, 2)], [Fraction(1, 10), Fraction(4, 5), Fraction(1, 10)])

# %% saddle_escape_steps
def saddle_escape_steps(eps, lr):
    """Closed form: y_t = (1 + 2 lr)^t eps, least t with |y_t| >= 1."""
    q = 1 + 2 * lr
    if abs(eps) >= 1:
        return 0
    if eps == 0 or abs(q) <= 1:
        return None
    t = math.ceil(math.log(1 / abs(eps)) / math.log(abs(q)))
    # adjust for rounding in the logarithms
    while t > 0 and abs(eps) * abs(q) ** (t - 1) >= 1:
        t -= 1
    while abs(eps) * abs(q) ** t < 1:
        t += 1
    return int(t)

# %% perturbed_gradient_descent
def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
    out = torch.empty((num_steps + 1,) + tuple(x0.shape), dtype=x0.dtype)
    out[0] = x0.detach()
    for t in range(num_steps):
        x = out[t].clone().requires_grad_(True)
        fn(x).backward()
        noise = torch.normal(0.0, float(noise_std), size=tuple(x0.shape), generator=generator, dtype=x0.dtype)
        out[t + 1] = (x - lr * x.grad).detach() + noise
    return out

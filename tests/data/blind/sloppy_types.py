# %% f
def f(x):
    # compute in double for accuracy, hand back the caller's dtype
    xd = x.double()
    return (xd * torch.cos(math.pi * xd)).to(x.dtype)

# %% g
def g(x):
    xd = x.to(torch.float64)
    out = xd * torch.cos(math.pi * xd) + 0.2 * torch.cos(5 * math.pi * xd)
    return out.type(x.dtype)

# %% local_minima
def local_minima(fn, lo, hi):
    xs = np.linspace(lo, hi, 100001)
    t = torch.tensor(xs, requires_grad=True)
    fn(t).sum().backward()
    d = t.grad.numpy()
    res = []
    for i in range(len(xs) - 1):
        if d[i] < 0 and d[i + 1] > 0:
            a, b = xs[i], xs[i + 1]
            for it in range(100):
                m = (a + b) / 2
                tm = torch.tensor([m], dtype=torch.float64, requires_grad=True)
                fn(tm).sum().backward()
                if tm.grad.item() < 0:
                    a = m
                else:
                    b = m
            res.append((a + b) / 2)
        elif i > 0 and d[i] == 0 and d[i - 1] < 0 and d[i + 1] > 0:
            res.append(xs[i])   # the grid hit the minimiser exactly
    return torch.tensor(sorted(res), dtype=torch.float64)

# %% global_minimum
def global_minimum(fn, lo, hi):
    xs = [lo, hi] + local_minima(fn, lo, hi).tolist()
    ys = fn(torch.tensor(xs, dtype=torch.float64)).detach().numpy()
    i = ys.argmin()
    return np.float64(xs[i]), ys[i]

# %% hessian
def hessian(fn, x):
    H = torch.autograd.functional.hessian(fn, x.detach().double(), vectorize=True)
    return H.to(x.dtype)

# %% classify_critical_point
def classify_critical_point(H, tol=1e-6):
    lam = torch.linalg.eigvalsh(H.double()).tolist()
    pos = [l for l in lam if l > tol]
    neg = [l for l in lam if l < -tol]
    if pos and neg: return 'saddle'
    if len(pos) == len(lam): return 'minimum'
    if len(neg) == len(lam): return 'maximum'
    return 'degenerate'

# %% derivative
def derivative(fn, x):
    t = x.detach().clone().requires_grad_()
    fn(t).sum().backward()
    return t.grad

# %% gradient_descent
def gradient_descent(fn, x0, lr, num_steps):
    x = x0.detach().double()
    traj = [x.tolist()]
    for i in range(num_steps):
        x = x.clone().requires_grad_()
        fn(x).backward()
        x = (x - lr * x.grad).detach()
        traj.append(x.tolist())
    return torch.tensor(traj, dtype=x0.dtype)

# %% mlp_forward
def mlp_forward(params, X):
    W1 = params['W1'].detach().numpy(); b1 = params['b1'].detach().numpy()
    w2 = params['w2'].detach().numpy(); b2 = params['b2'].item()
    y = np.tanh(X.detach().numpy() @ W1.T + b1) @ w2 + b2
    return torch.tensor(y, dtype=params['W1'].dtype)

# %% permute_hidden
def permute_hidden(params, perm):
    perm = [int(i) for i in perm]
    return {'W1': params['W1'][perm], 'b1': params['b1'][perm], 'w2': params['w2'][perm], 'b2': params['b2']}

# %% equivalent_parameterizations
def equivalent_parameterizations(params):
    d = len(params['b1'])
    seen = []
    out = []
    for perm in itertools.permutations(range(d)):
        p = permute_hidden(params, perm)
        key = str([p['W1'].tolist(), p['b1'].tolist(), p['w2'].tolist()])
        if key not in seen:
            seen.append(key)
            out.append(p)
    return out

# %% num_equivalent_minima
def num_equivalent_minima(d, sign_symmetry=False):
    if sign_symmetry:
        return math.factorial(d) * 2 ** d
    return math.factorial(d)

# %% sample_symmetric_matrices
def sample_symmetric_matrices(num, n, sample_entries, generator):
    k = n * (n + 1) // 2
    flat = sample_entries(torch.Size([num * k]), generator).reshape(num, k)
    rows, cols = np.triu_indices(n)
    M = torch.zeros(num, n, n, dtype=flat.dtype)
    for c in range(k):
        M[:, rows[c], cols[c]] = flat[:, c]
        M[:, cols[c], rows[c]] = flat[:, c]
    return M

# %% eigenvalue_sign_fractions
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices).flatten().tolist()
    n = len(lam)
    p = len([l for l in lam if l > tol]) / n
    q = len([l for l in lam if l < -tol]) / n
    z = len([l for l in lam if abs(l) <= tol]) / n
    return p, q, z

# %% exact_sign_probabilities_2x2
def exact_sign_probabilities_2x2(values, probs):
    pos = neg = zero = Fraction(0)
    for a, pa in zip(values, probs):
        for b, pb in zip(values, probs):
            for c, pc in zip(values, probs):
                p = Fraction(pa) * Fraction(pb) * Fraction(pc)
                det = Fraction(a) * Fraction(c) - Fraction(b) ** 2
                tr = Fraction(a) + Fraction(c)
                if det < 0:
                    pos += p / 2; neg += p / 2
                elif det > 0 and tr > 0:
                    pos += p
                elif det > 0:
                    neg += p
                elif tr > 0:
                    zero += p / 2; pos += p / 2
                elif tr < 0:
                    zero += p / 2; neg += p / 2
                else:
                    zero += p
    return pos, neg, zero

# %% zero_eigenvalue_counterexample
def zero_eigenvalue_counterexample():
    return [-1, 0, 1], [0.25, 0.5, 0.25]

# %% saddle_escape_steps
def saddle_escape_steps(eps, lr):
    y = eps
    n = 0
    while abs(y) < 1:
        y = y * (1 + 2 * lr)
        n += 1
        if n > 10 ** 6:
            return None
    return n

# %% perturbed_gradient_descent
def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
    noise = torch.randn((num_steps,) + tuple(x0.shape), generator=generator, dtype=x0.dtype)
    x = x0.detach().clone()
    traj = [x]
    for t in range(num_steps):
        x = x.clone().requires_grad_()
        fn(x).backward()
        x = (x - lr * x.grad).detach() + noise_std * noise[t]
        traj.append(x)
    return torch.stack(traj)

"""Monte-Carlo checks with a declared false-failure probability.

A check judges draws a test got from the submission (with the ``generator``
fixture) and raises :class:`~grader.errors.CheckFailure` when they are
implausible for a correct answer. Its ``alpha`` is a proven bound, for every
sample size, on the probability that a correct submission fails: exact
binomial / hypergeometric tails (counts, Fisher's test of independence), the
DKW inequality with Massart's constant (laws; Gnedenko-Korolyuk for two equal
samples), Hoeffding (bounded means), Laurent-Massart (Gaussian spreads), and a
union bound over the events a check tests. :func:`required_samples` and
:func:`normal_std_samples` give the draws that catch a wrong answer except
with probability ``miss``. Messages state the observed statistic and the
threshold, never a hidden expected value.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from grader.errors import CheckFailure

if TYPE_CHECKING:
    from grader.specs import Law

Samples = torch.Tensor | Sequence[float]

# Headroom on the log scale for float64 rounding: every threshold is taken this much
# stricter, so that the declared alpha stays an upper bound.
_LOG_SLACK = 1e-6
# Share of a tail's budget given to the mass beyond the window in which tails are summed exactly.
_OUTSIDE = 1e-3
# Exact intervals leave each tail at most exp(-_STRICT) * alpha / 2; required_samples plans for that.
_STRICT = _LOG_SLACK - math.log1p(-_OUTSIDE)
_F64 = torch.float64


def derive_seed(base: int, index: int) -> int:
    """A 63-bit seed for the ``index``-th independent stream of a test seeded with ``base``."""
    return int.from_bytes(hashlib.sha256(f"{base}/{index}".encode()).digest()[:8], "big") >> 1


def dkw_epsilon(n: int, alpha: float = 1e-9) -> float:
    """The ``eps`` that ``sup|F_n - F|`` over ``n`` draws exceeds with probability at most ``alpha``.

    Solves ``2 exp(-2 n eps^2) = alpha`` (Massart 1990); by Hoeffding, also a
    bound on ``|mean - p|`` for ``n`` independent draws in [0, 1] of mean ``p``.
    """
    _check_alpha(alpha)
    if n < 1:
        raise ValueError("need at least one draw")
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def required_samples(eps: float, alpha: float = 1e-9, *, miss: float = 1e-9) -> int:
    """Draws that make a check catch a deviation of ``eps``, except with probability ``miss``.

    The least ``n`` with ``dkw_epsilon(n, alpha') + dkw_epsilon(n, miss) < eps``
    (``alpha'`` a hair below ``alpha``, as the exact intervals spend it). Covers
    a continuous law at Kolmogorov distance ``eps`` (:func:`one_sample_test`), a
    rate off by ``eps`` (:func:`binomial_test`), a mean off by ``eps * (high - low)``
    (:func:`mean_test`); an atom of ``k`` off by ``eps``: ``required_samples(eps,
    alpha / k, miss=miss)``; :func:`two_sample_test`, per side: ``(eps / 2, alpha / 2, miss=miss / 2)``.
    """
    _check_alpha(alpha, miss)
    if not 0 < eps <= 1:
        raise ValueError("eps must be in (0, 1]")
    root = math.sqrt((math.log(2 / alpha) + _STRICT) / 2) + math.sqrt(math.log(2 / miss) / 2)
    return math.floor((root / eps) ** 2) + 1


def binomial_interval(trials: int, p: float, alpha: float = 1e-9) -> tuple[int, int]:
    """The counts ``[lo, hi]`` a Binomial(trials, p) count leaves with probability at most ``alpha``.

    Exact tail sums: ``P(X < lo) <= alpha / 2`` and ``P(X > hi) <= alpha / 2``,
    each tail as large as that allows (up to a factor ``1 - 1e-3``, see :func:`_interval`).
    """
    if trials < 0 or not 0 <= p <= 1:
        raise ValueError("need trials >= 0 and 0 <= p <= 1")
    q, const = torch.tensor(float(p), dtype=_F64), math.lgamma(trials + 1)

    def log_pmf(k: torch.Tensor) -> torch.Tensor:  # C(trials, k) q^k (1 - q)^(trials - k)
        rest = trials - k
        return const - torch.lgamma(k + 1) - torch.lgamma(rest + 1) + torch.xlogy(k, q) + torch.xlogy(rest, 1 - q)

    return _interval(log_pmf, 0, trials, trials * float(p), trials, alpha)


def binomial_test(successes: int, trials: int, p: float, *, alpha: float = 1e-9, what: str = "the count") -> None:
    """Fail unless ``successes`` is a plausible Binomial(trials, p) count.

    Fails iff the count is outside :func:`binomial_interval` (exact tails). The
    trials must be independent: for the fraction of all eigenvalues of many
    matrices use :func:`mean_test` on the per-matrix fractions.
    """
    successes, trials = int(successes), int(trials)
    if not 0 <= successes <= trials:
        raise ValueError("need 0 <= successes <= trials")
    if trials == 0:
        raise CheckFailure(f"{what}: no trials at all")
    lo, hi = binomial_interval(trials, p, alpha)
    if not lo <= successes <= hi:
        raise CheckFailure(f"{what} is {successes} of {trials} ({successes / trials:.4g}), further from what a correct "
                           f"answer gives than chance allows (a correct answer fails this with probability "
                           f"{_p(alpha)})")


def proportion_test(hits: torch.Tensor | float, p: float, *, trials: int | None = None, alpha: float = 1e-9,
                    what: str = "the fraction") -> None:
    """:func:`binomial_test` on a boolean tensor of independent trials, or on a fraction of ``trials``."""
    if isinstance(hits, torch.Tensor) and hits.dtype == torch.bool:
        if trials not in (None, hits.numel()):
            raise ValueError("trials disagrees with the tensor's size")
        binomial_test(int(hits.sum()), hits.numel(), p, alpha=alpha, what=what)
        return
    if trials is None:
        raise ValueError("a fraction needs the number of trials")
    try:
        fraction = float(hits)
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailure(f"{what} should be a number, got {type(hits).__name__}") from None
    count = round(fraction * trials) if math.isfinite(fraction) else -1
    if not 0 <= count <= trials or abs(fraction * trials - count) > 1e-6 * max(trials, 1):
        raise CheckFailure(f"{what} is {fraction:.6g}, not a fraction of {trials} trials")
    binomial_test(count, trials, p, alpha=alpha, what=what)


def one_sample_test(samples: Samples, law: Law, *, alpha: float = 1e-9, what: str = "the samples") -> None:
    """Fail unless ``samples`` look like independent draws from ``law``.

    Continuous law: the Kolmogorov-Smirnov distance against :func:`dkw_epsilon`.
    Discrete law: a value off the atoms fails at once, and each atom's count
    must lie in its :func:`binomial_interval` at ``alpha / k`` for ``k`` atoms.
    """
    x = _flat(samples, what)
    if law.is_discrete:
        _atoms_test(x, law.atoms, alpha, what)
        return
    n = x.numel()
    cdf = law.cdf(x.sort().values)
    rank = torch.arange(1, n + 1, dtype=_F64)
    distance, eps = float(torch.maximum(rank / n - cdf, cdf - (rank - 1) / n).max()), dkw_epsilon(n, alpha)
    if distance > eps:
        raise CheckFailure(f"{what} do not look like draws from the given law (Kolmogorov-Smirnov distance "
                           f"{distance:.3g} over {n} draws; a correct sampler stays below {eps:.3g} except with "
                           f"probability {_p(alpha)})")


def two_sample_test(a: Samples, b: Samples, *, alpha: float = 1e-9, what: str = "the two samples") -> None:
    """Fail unless ``a`` and ``b`` look like independent samples of one and the same law.

    ``D = sup|F_a - F_b|``, any law, ties included. Equal sizes ``n``: the pooled
    draws are exchangeable, so ``n D`` is at most (ties only lower it) the top
    excursion of a random path of ``n`` up and ``n`` down steps; by reflection
    ``P(n D >= k) <= 2 C(2n, n - k) / C(2n, n) <= 2 exp(-k^2 / 2n)`` (Gnedenko-
    Korolyuk), so never above the bound for other sizes: ``D <= sup|F_a - F| +
    sup|F_b - F|`` and DKW at ``alpha / 2`` on each side (true even if dependent).
    """
    xa, xb = _flat(a, what), _flat(b, what)
    na, nb = xa.numel(), xb.numel()
    values, order = torch.cat([xa, xb]).sort()
    walk = torch.where(order < na, nb, -na).cumsum(0)  # na nb (F_a - F_b) at each pooled draw, in integers
    last = torch.cat([values[1:] != values[:-1], torch.tensor([True])])  # F_a, F_b are right-continuous
    distance = int(walk[last].abs().max()) / (na * nb)
    if na == nb:
        def small(k: int) -> bool:  # log(2 C(2n, n - k) / C(2n, n)) within budget; decreasing in k
            log_tail = 2 * math.lgamma(na + 1) - math.lgamma(na - k + 1) - math.lgamma(na + k + 1)
            return math.log(2) + log_tail <= math.log(alpha) - _LOG_SLACK

        k = bisect.bisect_left(range(na + 1), True, key=small)
        eps = k / na if k <= na else math.inf
        failed = distance >= eps
    else:
        eps = dkw_epsilon(na, alpha / 2) + dkw_epsilon(nb, alpha / 2)
        failed = distance > eps
    if failed:
        raise CheckFailure(f"{what} do not look like draws from the same law (Kolmogorov-Smirnov distance "
                           f"{distance:.3g} between {na} and {nb} draws; samples of one law stay below {eps:.3g} "
                           f"except with probability {_p(alpha)})")


def independence_test(x: Samples, y: Samples, *, alpha: float = 1e-9, cells: int = 4,
                      what: str = "the pairs") -> None:
    """Fail when the pairs ``(x[i], y[i])``, i.i.d. over ``i``, look dependent.

    Counts the pairs below a cut of ``x`` at one of its empirical ``j / cells``
    quantiles and of ``y`` at one of its own. Under independence, given the x's
    and the sorted y's (hence the cuts), the y's are in uniformly random order,
    so each count is exactly hypergeometric for any laws, ties included (Fisher's
    exact test); ``alpha`` is split over the ``K <= (cells - 1)^2`` distinct tables.
    Catches ``y = x``, ``-x``, ``x + noise`` and (``cells >= 3``) ``y = x**2``.
    """
    u, v = _flat(x, what), _flat(y, what)
    n = u.numel()
    if v.numel() != n or cells < 2:
        raise ValueError("need as many x as y draws and at least 2 cells")
    cuts_u, cuts_v = _quantile_cuts(u, cells), _quantile_cuts(v, cells)
    share = alpha / max(len(cuts_u) * len(cuts_v), 1)
    for i, first in cuts_u.items():
        for j, second in cuts_v.items():
            count = int((first & second).sum())
            lo, hi = _hypergeometric_interval(n, int(first.sum()), int(second.sum()), share)
            if not lo <= count <= hi:
                raise CheckFailure(f"{what} do not look independent: {count} of {n} pairs have the first below its "
                                   f"{i:.0%} quantile and the second below its {j:.0%} quantile, while independent "
                                   f"draws give {lo} to {hi} (and fail this with probability {_p(alpha)})")


def mean_test(samples: Samples, mean: float, *, bound: tuple[float, float], alpha: float = 1e-9,
              what: str = "the values") -> None:
    """Fail unless independent draws with values in ``bound`` have a plausible mean.

    Hoeffding (1963, Theorem 1) on values rescaled to [0, 1] of mean ``p``:
    ``P(mean_n >= p + t) <= exp(-n KL(p + t || p))``, same below; fails iff
    ``n KL(observed || p) > ln(2 / alpha)``. At least as strong as
    ``2 exp(-2 n t^2)`` (Pinsker). A value outside ``bound`` fails at once.
    """
    _check_alpha(alpha)
    low, high = bound
    if not low <= mean <= high or low == high:
        raise ValueError("need low < high and mean within the bound")
    values = _flat(samples, what)
    n, outside = values.numel(), int(((values < low) | (values > high)).sum())
    if outside:
        raise CheckFailure(f"{what}: {outside} of {n} values lie outside [{low:g}, {high:g}]")
    observed = float(values.mean())
    q = min(max((observed - low) / (high - low), 0.0), 1.0)
    if n * _kl_bernoulli(q, (mean - low) / (high - low)) > math.log(2 / alpha) + _LOG_SLACK:
        raise CheckFailure(f"{what} have mean {observed:.4g} over {n} draws, further from a correct answer's "
                           f"mean than chance allows (a correct answer fails this with probability {_p(alpha)})")


def normal_std_test(samples: Samples, std: float, *, mean: float | None = 0.0, alpha: float = 1e-9,
                    what: str = "the samples") -> None:
    """Fail unless i.i.d. N(mean, std^2) draws have a plausible spread.

    ``X = sum((x - mean)^2) / std^2`` is chi-square(k), ``k = n`` (``k = n - 1``
    about the sample mean when ``mean=None``). Laurent-Massart (2000, Lemma 1):
    ``P(X - k >= 2 sqrt(k t) + 2t) <= e^-t``, ``P(k - X >= 2 sqrt(k t)) <= e^-t``,
    ``t = ln(2 / alpha)``. Needs Gaussian draws (q8's noise); the shape is
    :func:`one_sample_test`'s job.
    """
    _check_alpha(alpha)
    if not std > 0:
        raise ValueError("std must be positive")
    x = _flat(samples, what)
    n = x.numel()
    k = n if mean is not None else n - 1
    if k < 1:
        raise CheckFailure(f"{what}: too few draws ({n}) to judge their spread")
    chi2 = float(((x - (x.mean() if mean is None else mean)) ** 2).sum()) / std**2
    t = math.log(2 / alpha) + _LOG_SLACK
    lo, hi = k - 2 * math.sqrt(k * t), k + 2 * math.sqrt(k * t) + 2 * t
    if not lo <= chi2 <= hi:
        low, high = (std * math.sqrt(max(c, 0.0) / k) for c in (lo, hi))
        raise CheckFailure(f"the spread of {what} does not match the asked standard deviation {std:g}: observed "
                           f"{std * math.sqrt(chi2 / k):.4g} over {n} draws, while a correct sampler gives "
                           f"{low:.4g} to {high:.4g} except with probability {_p(alpha)}")


def normal_std_samples(ratio: float, alpha: float = 1e-9, *, miss: float = 1e-9, mean_known: bool = True) -> int:
    """Draws that make :func:`normal_std_test` catch ``ratio`` times the asked std, except with probability ``miss``.

    The wrong sampler's statistic is ``ratio^2`` times a chi-square(k); the
    smallest ``n`` whose Laurent-Massart bound at ``miss`` (one side) clears the
    acceptance interval: with ``u = sqrt(k)``, a quadratic inequality in ``u``.
    """
    _check_alpha(alpha, miss)
    if not ratio > 0 or ratio == 1:
        raise ValueError("ratio must be positive and not 1")
    t, s, r2 = math.log(2 / alpha) + _LOG_SLACK, math.log(1 / miss), ratio**2
    # ratio > 1: r2 (k - 2 sqrt(k s)) > k + 2 sqrt(k t) + 2t; ratio < 1: r2 (k + 2 sqrt(k s) + 2s) < k - 2 sqrt(k t).
    a, b, c = abs(r2 - 1), 2 * r2 * math.sqrt(s) + 2 * math.sqrt(t), 2 * t if ratio > 1 else 2 * r2 * s
    u = (b + math.sqrt(b * b + 4 * a * c)) / (2 * a)
    return math.floor(u * u) + 1 + (0 if mean_known else 1)


def _quantile_cuts(x: torch.Tensor, cells: int) -> dict[float, torch.Tensor]:
    """Quantile level -> ``x <= cut`` for the distinct empirical ``j / cells`` quantiles that leave a draw above."""
    ordered, n = x.sort().values, x.numel()
    cuts: dict[float, torch.Tensor] = {}
    for j in range(1, cells):
        below = x <= ordered[max(j * n // cells - 1, 0)]
        if int(below.sum()) < n and not any(bool((below == seen).all()) for seen in cuts.values()):
            cuts[j / cells] = below
    return cuts


def _atoms_test(x: torch.Tensor, atoms: dict[Any, Any], alpha: float, what: str) -> None:
    """One-sample check against a finite law: no draw off the atoms, every atom's count plausible."""
    probs = {float(value): float(prob) for value, prob in atoms.items()}
    if abs(sum(probs.values()) - 1) > 1e-9:
        raise ValueError("the law's probabilities do not sum to 1")
    n = x.numel()
    stray = int((~torch.isin(x, torch.tensor(list(probs), dtype=_F64))).sum())
    if stray:
        raise CheckFailure(f"{what}: {stray} of {n} draws are not among the law's possible values")
    checked = list(probs.items())[: 1 if len(probs) == 2 else None]  # of two atoms, one count fixes the other
    for value, prob in checked:
        count = int((x == value).sum())
        lo, hi = binomial_interval(n, prob, alpha / len(checked))
        if not lo <= count <= hi:
            raise CheckFailure(f"{what} do not look like draws from the given law: the value {value:g} makes up "
                               f"{count} of the {n} draws, while a correct sampler gives {lo} to {hi} "
                               f"(a correct sampler fails this with probability {_p(alpha)})")


def _hypergeometric_interval(n: int, marked: int, drawn: int, alpha: float) -> tuple[int, int]:
    """The counts a Hypergeometric(n, marked, drawn) count leaves with probability at most ``alpha`` (exact)."""
    const = sum(math.lgamma(m + 1) for m in (marked, n - marked, drawn, n - drawn)) - math.lgamma(n + 1)

    def log_pmf(k: torch.Tensor) -> torch.Tensor:  # C(marked, k) C(n - marked, drawn - k) / C(n, drawn)
        return const - torch.lgamma(torch.stack([k, marked - k, drawn - k, k + n - marked - drawn]) + 1).sum(0)

    top = min(marked, drawn)
    return _interval(log_pmf, max(0, marked + drawn - n), top, marked * drawn / n, top, alpha)


def _interval(logpmf: Callable[[torch.Tensor], torch.Tensor], first: int, last: int, mean: float, spread: int,
              alpha: float) -> tuple[int, int]:
    """Counts ``[lo, hi]`` of a law on ``first..last`` that it leaves below / above with probability <= alpha / 2 each.

    Exact tail sums in a window around the mean; beyond it lies at most
    ``alpha * _OUTSIDE / 2`` a side by Hoeffding's ``exp(-2 t^2 / spread)`` (for
    the hypergeometric too: Hoeffding 1963, section 6). ``lo`` is the first index
    whose lower sum exceeds the budget, so ``P(X < lo)`` is in budget even if
    rounding broke monotonicity; likewise ``hi``.
    """
    _check_alpha(alpha)
    t = math.sqrt(spread * math.log(2 / (alpha * _OUTSIDE)) / 2)
    start, stop = max(first, math.floor(mean - t)), min(last, math.ceil(mean + t))
    log_p = logpmf(torch.arange(start, stop + 1, dtype=_F64))
    budget = math.log(alpha / 2) - _STRICT
    below = torch.logcumsumexp(log_p, 0)  # log P(start <= X <= k)
    above = torch.logcumsumexp(log_p.flip(0), 0).flip(0)  # log P(k <= X <= stop)
    return start + int(torch.nonzero(below > budget)[0]), start + int(torch.nonzero(above > budget)[-1])


def _kl_bernoulli(q: float, p: float) -> float:
    """KL(Bernoulli(q) || Bernoulli(p)), infinite where q puts mass that p does not."""
    terms = ((a, b) for a, b in ((q, p), (1 - q, 1 - p)) if a > 0)
    return sum(a * math.log(a / b) if b > 0 else math.inf for a, b in terms)


def _flat(samples: Samples, what: str) -> torch.Tensor:
    """The draws as a flat float64 tensor; CheckFailure unless they are finite numbers."""
    try:
        x = torch.as_tensor(samples).detach().to(_F64).flatten()
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailure(f"{what} should be a tensor of numbers, got {type(samples).__name__}") from None
    bad = int((~torch.isfinite(x)).sum())
    if x.numel() == 0 or bad:
        raise CheckFailure(f"{what}: {bad} of {x.numel()} values are not finite" if bad else f"{what}: no draws")
    return x


def _p(alpha: float) -> str:
    """A probability as students read it: ``1e-9``, ``0.2``."""
    return f"{alpha:.1g}".replace("e-0", "e-")


def _check_alpha(*probabilities: float) -> None:
    """Reject an error probability outside (0, 1): a test author's mistake, not a student's."""
    if not all(0 < p < 1 for p in probabilities):
        raise ValueError(f"error probabilities must be in (0, 1), got {probabilities}")

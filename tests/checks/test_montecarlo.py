"""The Monte-Carlo checks keep their declared error rates and catch the wrong answers they target.

Every claim is tested over the same 200 independent streams (``SEEDS``):

- a correct sample never fails at the default alpha = 1e-9 (a single failure would be a bug);
- at alpha = 0.2 the false-failure rate is at most 0.2 plus a binomial margin, and not vacuous:
  ``MEASURED_AT_0_2`` holds the measured rates;
- every targeted wrong answer fails under every seed at the default alpha, with the sample size
  that ``required_samples`` / ``normal_std_samples`` give for a miss probability of 1e-9 (for
  independence, which has no such formula, the size in the scenario's name).

scipy (tests only) is the independent oracle for the exact tails and the Kolmogorov-Smirnov statistics.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy import stats

from grader.checks import montecarlo as mc
from grader.errors import CheckFailure
from grader.specs import Law

SEEDS = [mc.derive_seed(20240611, i) for i in range(200)]
BIG_ALPHA = 0.2
# A check that keeps its alpha fails more often than this over the seeds with probability below 1e-9.
MAX_FAILURES = int(stats.binom.isf(1e-9, len(SEEDS), BIG_ALPHA))
F64 = torch.float64

Check = Callable[[float], None]  # runs one check at the given alpha
Scenario = Callable[[torch.Generator], Check]

NORMAL, UNIFORM, RADEMACHER = Law.normal(), Law.uniform(-1.0, 1.0), Law.rademacher()
THREE_ATOMS = Law.discrete([-1, 0, 1], [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)])
# q7: for 2x2 Rademacher matrices P(lam > 0) = 3/8 (equal diagonal: {0, +-2}, unequal: {+-sqrt 2});
# built the wrong way, (A + A.T) / 2, the per-matrix positive fraction has mean 7/16.
Q7_MEAN, Q7_WRONG_MEAN = 3 / 8, 7 / 16
THIRDS = Law.discrete([-1, 0, 1], [Fraction(1, 3)] * 3)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """The tensors are small: torch's thread pool only adds overhead (badly so on a loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fails(check: Check, alpha: float = 1e-9) -> bool:
    try:
        check(alpha)
    except CheckFailure:
        return True
    return False


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def coin(g: torch.Generator, n: int, p: float) -> torch.Tensor:
    return torch.rand(n, generator=g, dtype=F64) < p


def normal(g: torch.Generator, n: int, std: float = 1.0) -> torch.Tensor:
    return std * torch.randn(n, generator=g, dtype=F64)


def ks_distance(cdf_a: Callable[[np.ndarray], np.ndarray], cdf_b: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup |F_a - F_b| on a fine grid: if anything an underestimate, so sizes derived from it are safe."""
    grid = np.linspace(-8, 8, 400_001)
    return float(np.abs(cdf_a(grid) - cdf_b(grid)).max())


def rademacher_2x2(g: torch.Generator, num: int, *, symmetrize: bool) -> torch.Tensor:
    """2x2 Rademacher matrices: entries drawn once and mirrored (correct) or ``(A + A.T) / 2`` (q7's wrong way)."""
    a = RADEMACHER((num, 2, 2), g)
    if symmetrize:
        return (a + a.transpose(1, 2)) / 2
    a[:, 1, 0] = a[:, 0, 1]
    return a


def positive_fraction(matrices: torch.Tensor) -> torch.Tensor:
    """Per 2x2 matrix, the fraction of eigenvalues > 1e-9 (what q7's eigenvalue_sign_fractions counts).

    In closed form, ``m +- r``, which is exact here (and much faster than eigvalsh) for entries in {-1, 0, 1}.
    """
    a, b, c = matrices[:, 0, 0], matrices[:, 1, 1], matrices[:, 0, 1]
    m, r = (a + b) / 2, torch.sqrt(((a - b) / 2) ** 2 + c**2)
    return ((m + r > 1e-9).to(F64) + (m - r > 1e-9).to(F64)) / 2


# ---------------------------------------------------------------------------------------------------------------
# Correct answers: pass at 1e-9 under every seed, fail at most alpha often at alpha = 0.2.


def binomial(n: int, p: float) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        k = int(coin(g, n, p).sum())
        return lambda alpha: mc.binomial_test(k, n, p, alpha=alpha)
    return draw


def one_sample(law: Law, n: int) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x = law((n,), g)
        return lambda alpha: mc.one_sample_test(x, law, alpha=alpha)
    return draw


def two_sample(law: Law, na: int, nb: int) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        a, b = law((na,), g), law((nb,), g)
        return lambda alpha: mc.two_sample_test(a, b, alpha=alpha)
    return draw


def independent(law_x: Law, law_y: Law, n: int) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x, y = law_x((n,), g), law_y((n,), g)
        return lambda alpha: mc.independence_test(x, y, alpha=alpha)
    return draw


def proportion(g: torch.Generator) -> Check:
    hits = coin(g, 4000, 0.25)
    return lambda alpha: mc.proportion_test(hits, 0.25, alpha=alpha)


def mean_bernoulli(g: torch.Generator) -> Check:
    x = coin(g, 4000, 0.5).to(F64)
    return lambda alpha: mc.mean_test(x, 0.5, bound=(0, 1), alpha=alpha)


def mean_q7(g: torch.Generator) -> Check:
    x = positive_fraction(rademacher_2x2(g, 4000, symmetrize=False))
    return lambda alpha: mc.mean_test(x, Q7_MEAN, bound=(0, 1), alpha=alpha)


def spread(mean: float | None) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x = normal(g, 4000, 0.1) + (3.0 if mean is None else mean)
        return lambda alpha: mc.normal_std_test(x, 0.1, mean=mean, alpha=alpha)
    return draw


NULL: dict[str, Scenario] = {
    "binomial p=0.3 n=4000": binomial(4000, 0.3),
    "binomial p=0.01 n=500": binomial(500, 0.01),
    "proportion p=0.25 n=4000": proportion,
    "one-sample N(0,1) n=4000": one_sample(NORMAL, 4000),
    "one-sample N(1,2^2) n=1000": one_sample(Law.normal(1.0, 2.0), 1000),
    "one-sample uniform n=4000": one_sample(UNIFORM, 4000),
    "one-sample laplace n=4000": one_sample(Law.laplace(0.0, 2.0), 4000),
    "one-sample rademacher n=4000": one_sample(RADEMACHER, 4000),
    "one-sample 3 atoms n=4000": one_sample(THREE_ATOMS, 4000),
    "two-sample N(0,1) 4000+4000": two_sample(NORMAL, 4000, 4000),
    "two-sample N(0,1) 3000+5000": two_sample(NORMAL, 3000, 5000),
    "two-sample rademacher 4000+4000": two_sample(RADEMACHER, 4000, 4000),
    "independence normal n=2000": independent(NORMAL, NORMAL, 2000),
    "independence rademacher n=2000": independent(RADEMACHER, RADEMACHER, 2000),
    "independence 3 atoms x uniform n=2000": independent(THREE_ATOMS, UNIFORM, 2000),
    "mean bernoulli(1/2) n=4000": mean_bernoulli,
    "mean q7 positive fraction n=4000": mean_q7,
    "std 0.1 known mean n=4000": spread(0.0),
    "std 0.1 unknown mean n=4000": spread(None),
}

# False-failure rates measured at alpha = 0.2 over the 200 seeds (torch 2.13). The exact tests (binomial,
# atoms, KS/DKW, Gnedenko-Korolyuk, Fisher) sit near 0.2 up to seed noise (their exact rates are checked against
# scipy below), lower where counts are small or draws tie (discreteness). The distribution-free bounds for
# bounded means (Hoeffding) and Gaussian spreads (Laurent-Massart), DKW for two samples of unequal sizes and
# the union bound over the 9 tables of the independence test are conservative by design; the q7 mean is 0
# because its values lie in {0, 1/2} while Hoeffding must allow all of [0, 1].
MEASURED_AT_0_2 = {
    "binomial p=0.3 n=4000": 0.230,
    "binomial p=0.01 n=500": 0.070,
    "proportion p=0.25 n=4000": 0.225,
    "one-sample N(0,1) n=4000": 0.210,
    "one-sample N(1,2^2) n=1000": 0.190,
    "one-sample uniform n=4000": 0.230,
    "one-sample laplace n=4000": 0.230,
    "one-sample rademacher n=4000": 0.260,
    "one-sample 3 atoms n=4000": 0.170,
    "two-sample N(0,1) 4000+4000": 0.175,
    "two-sample N(0,1) 3000+5000": 0.010,
    "two-sample rademacher 4000+4000": 0.045,
    "independence normal n=2000": 0.115,
    "independence rademacher n=2000": 0.210,
    "independence 3 atoms x uniform n=2000": 0.140,
    "mean bernoulli(1/2) n=4000": 0.045,
    "mean q7 positive fraction n=4000": 0.000,
    "std 0.1 known mean n=4000": 0.030,
    "std 0.1 unknown mean n=4000": 0.030,
}


@pytest.mark.parametrize("name", NULL)
def test_a_correct_answer_passes_at_1e_9_and_fails_at_most_alpha_often(name: str) -> None:
    default = big = 0
    for seed in SEEDS:
        check = NULL[name](generator(seed))
        default += fails(check)
        big += fails(check, BIG_ALPHA)
    print(f"{name}: {big / len(SEEDS):.3f}")
    assert default == 0
    assert big <= MAX_FAILURES
    assert big / len(SEEDS) >= MEASURED_AT_0_2[name] / 2


# ---------------------------------------------------------------------------------------------------------------
# Wrong answers: caught under every seed at the default alpha, with the sample sizes the helpers derive.

KS_N_VS_WIDE = ks_distance(stats.norm.cdf, stats.norm(scale=1.2).cdf)  # 0.044
KS_N_VS_LAPLACE = ks_distance(stats.norm.cdf, stats.laplace(scale=1 / math.sqrt(2)).cdf)  # same variance: 0.062
KS_N_VS_HALF = ks_distance(stats.norm.cdf, stats.norm(scale=math.sqrt(0.5)).cdf)  # (a + b) / 2 entries: 0.083
KS_UNIFORM_VS_TRIANGULAR = ks_distance(stats.uniform(-1, 2).cdf, stats.triang(0.5, -1, 2).cdf)  # 0.125


def triangular(g: torch.Generator, n: int) -> torch.Tensor:
    return (UNIFORM((n,), g) + UNIFORM((n,), g)) / 2


def wrong_one_sample(law: Law, n: int, sample: Callable[[torch.Generator, int], torch.Tensor]) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x = sample(g, n)
        return lambda alpha: mc.one_sample_test(x, law, alpha=alpha)
    return draw


def wrong_two_sample(n: int, sample_a: Callable[[torch.Generator, int], torch.Tensor],
                     sample_b: Callable[[torch.Generator, int], torch.Tensor]) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        a, b = sample_a(g, n), sample_b(g, n)
        return lambda alpha: mc.two_sample_test(a, b, alpha=alpha)
    return draw


def dependent(n: int, make_y: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
              law: Law = NORMAL) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x = law((n,), g)
        y = make_y(x, g)
        return lambda alpha: mc.independence_test(x, y, alpha=alpha)
    return draw


N_RATE = mc.required_samples(0.05)  # 17134: a rate or a [0, 1] mean off by 0.05
N_WIDE = mc.required_samples(KS_N_VS_WIDE)
N_LAPLACE = mc.required_samples(KS_N_VS_LAPLACE)
N_HALF = mc.required_samples(KS_N_VS_HALF)
N_TRIANGULAR = mc.required_samples(KS_UNIFORM_VS_TRIANGULAR)
N_ZERO_ATOM = math.ceil(math.log(1e-9) / math.log(1 / 2))  # no 0 among n draws of the wrong law: 2^-n <= 1e-9
N_THREE_ATOMS = mc.required_samples(1 / 2 - 1 / 3, 1e-9 / 3)  # the atom at 0: 1/3 instead of 1/2
N_COIN = mc.required_samples(0.05, 1e-9 / 2)
N2_TRIANGULAR = mc.required_samples(KS_UNIFORM_VS_TRIANGULAR / 2, 0.5e-9, miss=0.5e-9)
N2_COIN = mc.required_samples(0.1 / 2, 0.5e-9, miss=0.5e-9)
N_Q7_WRONG = mc.required_samples(Q7_WRONG_MEAN - Q7_MEAN)
N_STD_UP, N_STD_DOWN = mc.normal_std_samples(1.1), mc.normal_std_samples(0.9)
N_STD_UP_UNKNOWN = mc.normal_std_samples(1.1, mean_known=False)
# Independence has no size formula; over these seeds every alternative below is caught from 50 pairs on (y = x,
# y = -x, Rademacher y = x), 100 (y = x + noise) and 150 (y = x^2): 1000 leaves a wide margin.
N_PAIRS = 1000


def wrong_binomial(g: torch.Generator) -> Check:
    k = int(coin(g, N_RATE, 0.55).sum())
    return lambda alpha: mc.binomial_test(k, N_RATE, 0.5, alpha=alpha)


def wrong_proportion(g: torch.Generator) -> Check:
    hits = coin(g, N_RATE, 0.30)
    return lambda alpha: mc.proportion_test(hits, 0.25, alpha=alpha)


def wrong_mean(g: torch.Generator) -> Check:
    x = coin(g, N_RATE, 0.55).to(F64)
    return lambda alpha: mc.mean_test(x, 0.5, bound=(0, 1), alpha=alpha)


def wrong_mean_q7(g: torch.Generator) -> Check:
    x = positive_fraction(rademacher_2x2(g, N_Q7_WRONG, symmetrize=True))
    return lambda alpha: mc.mean_test(x, Q7_MEAN, bound=(0, 1), alpha=alpha)


def wrong_spread(n: int, true_std: float, mean: float | None) -> Scenario:
    def draw(g: torch.Generator) -> Check:
        x = normal(g, n, true_std)
        return lambda alpha: mc.normal_std_test(x, 0.1, mean=mean, alpha=alpha)
    return draw


POWER: dict[str, Scenario] = {
    f"binomial: rate 0.55 for 0.5, {N_RATE} trials": wrong_binomial,
    f"proportion: 0.30 for 0.25, {N_RATE} trials": wrong_proportion,
    f"one-sample: N(0,1.2^2) for N(0,1), n={N_WIDE}":
        wrong_one_sample(NORMAL, N_WIDE, lambda g, n: normal(g, n, 1.2)),
    f"one-sample: Laplace of variance 1 for N(0,1), n={N_LAPLACE}":
        wrong_one_sample(NORMAL, N_LAPLACE, lambda g, n: Law.laplace(0.0, 1 / math.sqrt(2))((n,), g)),
    f"one-sample: (a+b)/2 entries for N(0,1), n={N_HALF}":
        wrong_one_sample(NORMAL, N_HALF, lambda g, n: (normal(g, n) + normal(g, n)) / 2),
    f"one-sample: triangular for uniform, n={N_TRIANGULAR}": wrong_one_sample(UNIFORM, N_TRIANGULAR, triangular),
    f"one-sample: (a+b)/2 Rademacher (atom at 0) for Rademacher, n={N_ZERO_ATOM}":
        wrong_one_sample(RADEMACHER, N_ZERO_ATOM, lambda g, n: THREE_ATOMS((n,), g)),
    f"one-sample: 1/3 each for (1/4, 1/2, 1/4), n={N_THREE_ATOMS}":
        wrong_one_sample(THREE_ATOMS, N_THREE_ATOMS, lambda g, n: THIRDS((n,), g)),
    f"one-sample: P(1)=0.55 for Rademacher, n={N_COIN}":
        wrong_one_sample(RADEMACHER, N_COIN, lambda g, n: 2 * coin(g, n, 0.55).to(F64) - 1),
    f"two-sample: triangular vs uniform, {N2_TRIANGULAR} each":
        wrong_two_sample(N2_TRIANGULAR, triangular, lambda g, n: UNIFORM((n,), g)),
    f"two-sample: P(1)=0.6 vs Rademacher, {N2_COIN} each":
        wrong_two_sample(N2_COIN, lambda g, n: 2 * coin(g, n, 0.6).to(F64) - 1, lambda g, n: RADEMACHER((n,), g)),
    f"independence: y = x, n={N_PAIRS}": dependent(N_PAIRS, lambda x, g: x.clone()),
    f"independence: y = -x, n={N_PAIRS}": dependent(N_PAIRS, lambda x, g: -x),
    f"independence: y = x + N(0,0.3^2), n={N_PAIRS}": dependent(N_PAIRS, lambda x, g: x + normal(g, x.numel(), 0.3)),
    f"independence: y = x^2, n={N_PAIRS}": dependent(N_PAIRS, lambda x, g: x * x),
    f"independence: Rademacher y = x, n={N_PAIRS}": dependent(N_PAIRS, lambda x, g: x.clone(), RADEMACHER),
    f"mean: rate 0.55 for 0.5, n={N_RATE}": wrong_mean,
    f"mean: q7 (A+A.T)/2 positive fraction (7/16 for 3/8), {N_Q7_WRONG} matrices": wrong_mean_q7,
    f"std: 0.11 for 0.1, n={N_STD_UP}": wrong_spread(N_STD_UP, 0.11, 0.0),
    f"std: 0.09 for 0.1, n={N_STD_DOWN}": wrong_spread(N_STD_DOWN, 0.09, 0.0),
    f"std: 0.11 for 0.1 (mean unknown), n={N_STD_UP_UNKNOWN}": wrong_spread(N_STD_UP_UNKNOWN, 0.11, None),
}


@pytest.mark.parametrize("name", POWER)
def test_a_targeted_wrong_answer_fails_under_every_seed(name: str) -> None:
    missed = [seed for seed in SEEDS if not fails(POWER[name](generator(seed)))]
    assert not missed, f"{len(missed)} of {len(SEEDS)} seeds missed"


# ---------------------------------------------------------------------------------------------------------------
# The bounds themselves, against scipy.


@pytest.mark.parametrize(("trials", "p", "alpha"), [
    (1, 0.5, 0.2), (10, 0.0, 1e-9), (10, 1.0, 0.5), (50, 0.01, 0.2), (1000, 0.3, 1e-9), (4000, 0.5, 0.2),
    (17134, 0.5, 1e-9), (100_000, 0.37, 1e-9), (1_000_000, 1e-4, 1e-9), (2_000_000, 0.5, 1e-12),
])
def test_binomial_interval_has_exact_tails_within_alpha_and_is_not_wider_than_needed(trials: int, p: float,
                                                                                    alpha: float) -> None:
    lo, hi = mc.binomial_interval(trials, p, alpha)
    law = stats.binom(trials, p)
    assert law.cdf(lo - 1) <= alpha / 2 and law.sf(hi) <= alpha / 2
    assert law.cdf(lo - 1) + law.sf(hi) <= alpha
    # One count further in would break the budget (of which 1e-3 is kept for the mass outside the summed window).
    assert lo == 0 or law.cdf(lo) > alpha / 2 * 0.998
    assert hi == trials or law.sf(hi - 1) > alpha / 2 * 0.998


@pytest.mark.parametrize(("n", "marked", "drawn", "alpha"), [
    (2000, 1000, 1000, 1e-9), (2000, 500, 1500, 1e-10), (10, 3, 4, 0.2), (5000, 1, 2500, 1e-9),
    (1000, 1000, 400, 1e-9), (40000, 10000, 20000, 1e-9),
])
def test_hypergeometric_interval_has_exact_tails_within_alpha(n: int, marked: int, drawn: int, alpha: float) -> None:
    lo, hi = mc._hypergeometric_interval(n, marked, drawn, alpha)
    law = stats.hypergeom(n, marked, drawn)
    assert law.cdf(lo - 1) <= alpha / 2 and law.sf(hi) <= alpha / 2
    assert lo == law.support()[0] or law.cdf(lo) > alpha / 2 * 0.998
    assert hi == law.support()[1] or law.sf(hi - 1) > alpha / 2 * 0.998


def alpha_for_dkw(n: int, eps: float) -> float:
    """The alpha at which dkw_epsilon(n, alpha) == eps."""
    return 2 * math.exp(-2 * n * eps * eps)


@pytest.mark.parametrize("law", [NORMAL, UNIFORM, Law.laplace(1.0, 0.5)], ids=repr)
def test_one_sample_statistic_is_scipys_kolmogorov_smirnov_distance(law: Law) -> None:
    x = law((500,), generator(1)) * 1.2 + 0.1  # a little off, so that d is large enough for a valid alpha
    d = stats.kstest(x.numpy(), lambda v: law.cdf(torch.as_tensor(v)).numpy()).statistic
    mc.one_sample_test(x, law, alpha=alpha_for_dkw(500, d * (1 + 1e-9)))
    with pytest.raises(CheckFailure, match=f"distance {d:.3g} over 500 draws"):
        mc.one_sample_test(x, law, alpha=alpha_for_dkw(500, d * (1 - 1e-9)))


def test_dkw_threshold_is_a_bound_for_the_exact_one_sample_law() -> None:
    # Massart's bound against the exact law of the KS distance (scipy's kstwo), for continuous F.
    for n in (5, 50, 500, 5000):
        for alpha in (1e-9, 1e-3, 0.2):
            exact = stats.kstwo(n).sf(mc.dkw_epsilon(n, alpha))
            assert exact <= alpha
            assert n < 50 or exact >= alpha / 5  # and hardly conservative (within 20% from n = 500 on)


@pytest.mark.parametrize("ties", [False, True])
def test_two_sample_statistic_is_scipys_for_unequal_sizes(ties: bool) -> None:
    g = generator(2)
    a, b = normal(g, 300), normal(g, 500) * 1.3
    if ties:  # a few values, so the empirical CDFs jump by many draws at once
        a, b = a.round(), b.round()
    d = stats.ks_2samp(a.numpy(), b.numpy()).statistic
    c = 1 / math.sqrt(300) + 1 / math.sqrt(500)  # the threshold is c * sqrt(ln(4 / alpha) / 2)
    alpha = lambda eps: 4 * math.exp(-2 * (eps / c) ** 2)  # noqa: E731
    mc.two_sample_test(a, b, alpha=alpha(d * (1 + 1e-9)))
    with pytest.raises(CheckFailure, match=f"distance {d:.3g} between 300 and 500 draws"):
        mc.two_sample_test(a, b, alpha=alpha(d * (1 - 1e-9)))


def shifted(n: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two samples of n draws whose empirical CDFs are exactly k / n apart."""
    a = torch.arange(n, dtype=F64)
    return a, a + k - 0.5


def first_rejected_gap(n: int, alpha: float) -> int:
    """The least k for which two samples of n draws k / n apart fail two_sample_test (n + 1 if none)."""
    return bisect.bisect_left(range(n + 1), True, key=lambda k: fails(lambda a: mc.two_sample_test(*shifted(n, k),
                                                                                                    alpha=a), alpha))


@pytest.mark.parametrize("alpha", [1e-9, 1e-3, 0.2])
def test_two_sample_equal_sizes_threshold_is_exact_reflection_bound(alpha: float) -> None:
    for n in (10, 100, 1000, 4000):
        k = first_rejected_gap(n, alpha)
        # scipy's exact null law of the two-sample KS distance (continuous laws): P(D >= k / n) for the first
        # rejected k is within alpha; for one less it is not far below alpha (the bound is nearly tight).
        if k <= n:
            assert stats.ks_2samp(*shifted(n, k), method="exact").pvalue <= alpha
        assert stats.ks_2samp(*shifted(n, k - 1), method="exact").pvalue > alpha / 2
        # The threshold is never above DKW's for two samples (so required_samples(eps / 2, ...) holds for it too).
        dkw = 2 * mc.dkw_epsilon(n, alpha / 2)
        assert k / n <= math.floor(dkw * n + 1) / n


def test_required_samples_is_the_least_size_meeting_the_bound() -> None:
    for eps, alpha, miss in [(0.05, 1e-9, 1e-9), (0.125, 1e-9, 1e-3), (0.01, 0.2, 0.1), (1 / 6, 1e-9 / 3, 1e-9)]:
        n = mc.required_samples(eps, alpha, miss=miss)
        strict = alpha * math.exp(-mc._STRICT)
        assert mc.dkw_epsilon(n, strict) + mc.dkw_epsilon(n, miss) < eps
        assert mc.dkw_epsilon(n - 1, strict) + mc.dkw_epsilon(n - 1, miss) >= eps


@pytest.mark.parametrize(("ratio", "known"), [(1.1, True), (0.9, True), (1.1, False), (2.0, True), (0.5, False)])
def test_normal_std_samples_is_the_least_size_that_separates_the_laurent_massart_intervals(ratio: float,
                                                                                          known: bool) -> None:
    t, s = math.log(2 / 1e-9) + mc._LOG_SLACK, math.log(1 / 1e-9)

    def separated(n: int) -> bool:
        k = n if known else n - 1
        lo, hi = k - 2 * math.sqrt(k * t), k + 2 * math.sqrt(k * t) + 2 * t
        if ratio > 1:
            return ratio**2 * (k - 2 * math.sqrt(k * s)) > hi
        return ratio**2 * (k + 2 * math.sqrt(k * s) + 2 * s) < lo

    n = mc.normal_std_samples(ratio, mean_known=known)
    assert separated(n) and not separated(n - 1)


def test_laurent_massart_interval_holds_for_the_exact_chi_square_law() -> None:
    for k in (1, 10, 1000, 100_000):
        for alpha in (1e-9, 0.2):
            t = math.log(2 / alpha)
            law = stats.chi2(k)
            assert law.cdf(k - 2 * math.sqrt(k * t)) <= alpha / 2
            assert law.sf(k + 2 * math.sqrt(k * t) + 2 * t) <= alpha / 2


# ---------------------------------------------------------------------------------------------------------------
# Messages and bad input.


def message(check: Callable[[], None]) -> str:
    with pytest.raises(CheckFailure) as info:
        check()
    return str(info.value)


def test_messages_give_the_statistic_and_threshold_but_not_a_hidden_value() -> None:
    text = message(lambda: mc.binomial_test(300, 1000, 0.123456, what="the fraction of positive eigenvalues"))
    assert text.startswith("the fraction of positive eigenvalues is 300 of 1000") and "probability 1e-9)" in text
    assert "0.12" not in text and "123" not in text
    text = message(lambda: mc.mean_test(torch.full((100,), 0.9, dtype=F64), 0.123456, bound=(0, 1)))
    assert "0.9" in text and "0.12" not in text
    x = Law.laplace()((4000,), generator(3))
    text = message(lambda: mc.one_sample_test(x, NORMAL, what="the upper-triangle entries"))
    assert text.startswith("the upper-triangle entries do not look like draws from the given law")
    assert "over 4000 draws; a correct sampler stays below 0.0517 except with probability 1e-9)" in text
    text = message(lambda: mc.normal_std_test(normal(generator(4), 5000, 0.2), 0.1, what="the noise"))
    assert text.startswith("the spread of the noise does not match the asked standard deviation 0.1: observed 0.2")


def test_independence_message_names_the_cell() -> None:
    x = normal(generator(5), 400)
    text = message(lambda: mc.independence_test(x, x, what="the noise of x and y"))
    assert text.startswith("the noise of x and y do not look independent: 100 of 400 pairs have the first below its "
                           "25% quantile and the second below its 25% quantile")


@pytest.mark.parametrize("bad", [torch.tensor([0.0, float("nan")]), torch.tensor([]), "abc", object(),
                                 torch.tensor([1.0, float("inf")])], ids=repr)
def test_bad_samples_fail_as_check_failures(bad: object) -> None:
    with pytest.raises(CheckFailure):
        mc.one_sample_test(bad, NORMAL)  # type: ignore[arg-type]
    with pytest.raises(CheckFailure):
        mc.two_sample_test(torch.zeros(3), bad)  # type: ignore[arg-type]


def test_values_a_correct_answer_never_gives_fail_at_once() -> None:
    assert "1 of 3 draws are not among the law's possible values" in message(
        lambda: mc.one_sample_test(torch.tensor([1.0, -1.0, 0.5]), RADEMACHER))
    assert "1 of 2 values lie outside [0, 1]" in message(lambda: mc.mean_test([0.5, 1.5], 0.5, bound=(0, 1)))
    assert "not a fraction of 3 trials" in message(lambda: mc.proportion_test(0.5, 0.5, trials=3))


def test_proportion_test_accepts_a_boolean_tensor_or_a_fraction() -> None:
    hits = torch.tensor([True] * 30 + [False] * 70)
    mc.proportion_test(hits, 0.3)
    mc.proportion_test(0.3, 0.3, trials=100)
    mc.proportion_test(torch.tensor(0.3), 0.3, trials=100)
    with pytest.raises(CheckFailure):
        mc.proportion_test(hits, 0.7)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -1e-9, 2.0])
def test_an_impossible_alpha_is_the_authors_error(alpha: float) -> None:
    with pytest.raises(ValueError, match="error probabilities"):
        mc.one_sample_test(torch.zeros(3), UNIFORM, alpha=alpha)
    with pytest.raises(ValueError):
        mc.required_samples(0.1, alpha)


def test_derive_seed_is_stable_distinct_and_63_bit() -> None:
    seeds = [mc.derive_seed(7, i) for i in range(1000)]
    assert seeds == [mc.derive_seed(7, i) for i in range(1000)]
    assert len(set(seeds)) == 1000 and all(0 <= s < 2**63 for s in seeds)
    assert mc.derive_seed(7, 0) != mc.derive_seed(8, 0)

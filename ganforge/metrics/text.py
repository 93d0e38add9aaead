"""Measures of generated text: BLEU-n against held-out lines (quality), self-BLEU (diversity:
high when the samples repeat each other) and the negative log-likelihood of held-out lines.

BLEU here is sentence BLEU averaged over the samples, as Texygen (Zhu et al. 2018) and the
language-GAN papers use it: each sample's modified n-gram precisions (its n-gram counts clipped
by their most in any one reference) for n = 1..N, their geometric mean with equal weights, the
brevity penalty of the reference closest in length, and Chen & Cherry's smoothing 1 (a
precision without a match counts 0.1 matches) — nltk's sentence_bleu with SmoothingFunction
().method1, computed with the references' maximal counts gathered once (nltk would recount
every reference for every sample).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import Callable

import torch
from torch import Tensor, nn

EPSILON = 0.1   # smoothing 1
SELF_BLEU_MOST = 500  # samples self-BLEU compares with each other (n^2 in time)


def ngrams(tokens: list, n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


class References:
    """Reference token lists, held as each n-gram's largest count in any one of them."""

    def __init__(self, references: list[list], max_n: int = 4):
        self.max_n = max_n
        self.most: list[dict] = [{} for _ in range(max_n)]
        for ref in references:
            for n in range(1, max_n + 1):
                table = self.most[n - 1]
                for gram, count in ngrams(ref, n).items():
                    if count > table.get(gram, 0):
                        table[gram] = count
        self.lengths = sorted(len(r) for r in references)

    def closest_length(self, length: int) -> int:
        """The reference length closest to `length` (the shorter one on a tie, as nltk)."""
        i = bisect.bisect_left(self.lengths, length)
        near = self.lengths[max(0, i - 1):i + 1]
        return min(near, key=lambda r: (abs(r - length), r))


def sentence_bleu(hypothesis: list, refs: References, n: int,
                  clip: Callable[[int, tuple], int] | None = None, ref_length: int | None = None) -> float:
    """BLEU-n of one token list against the references (see the module's docstring); `clip`
    (order, n-gram) -> its most in a reference, and `ref_length`, replace the references' own."""
    c = len(hypothesis)
    if c == 0:
        return 0.0
    clip = clip or (lambda k, gram: refs.most[k - 1].get(gram, 0))
    log_sum = 0.0
    for k in range(1, n + 1):
        grams = ngrams(hypothesis, k)
        total = max(1, sum(grams.values()))
        matched = sum(min(count, clip(k, g)) for g, count in grams.items())
        if k == 1 and matched == 0:
            return 0.0  # (nltk: no unigram in common, no BLEU)
        log_sum += math.log((matched or EPSILON) / total)
    r = refs.closest_length(c) if ref_length is None else ref_length
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(log_sum / n)


def bleu(hypotheses: list[list], references: list[list], n: int) -> float:
    """Mean BLEU-n of the hypotheses against all the references."""
    refs = References(references, n)
    return sum(sentence_bleu(h, refs, n) for h in hypotheses) / max(1, len(hypotheses))


def self_bleu(samples: list[list], n: int, most: int = SELF_BLEU_MOST) -> float:
    """Mean BLEU-n of each of the first `most` samples against all the others among them.
    Each n-gram keeps its two largest counts and whose the largest is, so leaving a sample
    out of its own references costs nothing."""
    samples = samples[:most]
    if len(samples) < 2:
        return 0.0
    top: list[dict] = [{} for _ in range(n)]  # gram -> (largest, whose, second largest)
    for j, s in enumerate(samples):
        for k in range(1, n + 1):
            table = top[k - 1]
            for gram, count in ngrams(s, k).items():
                first, who, second = table.get(gram, (0, -1, 0))
                table[gram] = (count, j, first) if count > first else (first, who, max(second, count))
    lengths = sorted(len(s) for s in samples)
    total = 0.0
    for i, h in enumerate(samples):
        def clip(k: int, gram: tuple, i: int = i) -> int:
            first, who, second = top[k - 1].get(gram, (0, -1, 0))
            return second if who == i else first
        others = References([], n)
        others.lengths = lengths[:]
        others.lengths.remove(len(h))
        total += sentence_bleu(h, others, n, clip=clip)
    return total / len(samples)


@torch.no_grad()
def model_nll(G: nn.Module, tokens: Tensor, batch: int = 500, seed: int = 0, temperature: float = 1.0) -> float:
    """G's mean negative log-likelihood per counted token of sequences (N, L) (nats) at a
    sampling temperature, z drawn with `seed`; tokens after a sequence's end are not counted."""
    device = next(G.parameters()).device
    g = torch.Generator(device).manual_seed(seed)
    total, count = 0.0, 0.0
    for i in range(0, len(tokens), batch):
        t = tokens[i:i + batch].to(device)
        z = torch.randn(len(t), G.z_dim, device=device, generator=g)
        total -= G.log_probs(t, z, temperature).sum().item()
        count += G.counted(t).sum().item()
    return total / max(count, 1.0)

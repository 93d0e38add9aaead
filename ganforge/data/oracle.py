"""SeqGAN's synthetic benchmark (Yu et al. 2017): an LSTM with random weights is the "real"
language, so a generator's samples can be scored by the true likelihood.

The oracle: vocabulary 5,000, embedding and hidden size 32, every weight drawn from N(0, 1)
(SeqGAN's target LSTM; the wide weights make its distribution far from uniform), a zero
initial state and a start vector. It is rebuilt from its seed whenever needed, never stored.
It writes 10,000 training sequences of 20 tokens and 2,000 held-out ones (NLL_test).

  NLL_oracle   the oracle's mean negative log-likelihood per token of generated sequences
               (quality: low when the samples are likely under the real language)
  NLL_test     the model's own NLL per token of the held-out oracle sequences
               (diversity / coverage: low when the model gives the real language mass)

Sampling 12,000 sequences over 5,000 tokens takes ~10 s here: they are cached beside the runs
(`oracle-<key>.npy` + `.json`, through data/cache.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data import cache

FORMAT = 1
ORACLE_SEED = 88       # SeqGAN's seed
TRAIN, HELD_OUT = 10_000, 2_000
EMBED = HIDDEN = 32


class Oracle(nn.Module):
    """The target LSTM: tokens (B, L) -> mean NLL per token; sample(n) -> (n, L)."""

    def __init__(self, vocab: int = 5000, seq_len: int = 20, seed: int = ORACLE_SEED):
        super().__init__()
        self.vocab, self.seq_len = vocab, seq_len
        self.start = nn.Parameter(torch.empty(EMBED))
        self.embed = nn.Embedding(vocab, EMBED)
        self.rnn = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.out = nn.Linear(HIDDEN, vocab)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():  # (a fixed order: the same oracle from the same seed)
                p.copy_(torch.randn(p.shape, generator=g))
        self.requires_grad_(False)

    def logits(self, tokens: Tensor) -> Tensor:
        """Teacher-forced next-token logits (B, L, V) of tokens (B, L)."""
        b = tokens.shape[0]
        inputs = torch.cat([self.start.expand(b, 1, EMBED), self.embed(tokens[:, :-1])], dim=1)
        h, _ = self.rnn(inputs)
        return self.out(h)

    @torch.no_grad()
    def nll(self, tokens: Tensor, batch: int = 1000) -> float:
        """Mean negative log-likelihood per token (nats) of tokens (N, L)."""
        total = 0.0
        for i in range(0, len(tokens), batch):
            t = tokens[i:i + batch]
            total += F.cross_entropy(self.logits(t).flatten(0, 1), t.flatten(), reduction="sum").item()
        return total / tokens.numel()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, batch: int = 2000) -> Tensor:
        out = []
        for i in range(0, n, batch):
            b = min(batch, n - i)
            x, state, tokens = self.start.expand(b, 1, EMBED), None, []
            for _ in range(self.seq_len):
                h, state = self.rnn(x, state)
                token = draw(self.out(h[:, 0]), generator)[:, None]  # (b, 1)
                tokens.append(token)
                x = self.embed(token)
            out.append(torch.cat(tokens, 1))
        return torch.cat(out)


def draw(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One token per row of logits (B, V), drawn by inverting the cumulative softmax (faster
    than torch.multinomial over thousands of tokens)."""
    cdf = logits.float().softmax(-1).cumsum(-1)
    u = torch.rand(logits.shape[0], 1, device=logits.device, generator=generator) * cdf[:, -1:]
    return torch.searchsorted(cdf, u).squeeze(1).clamp_max(logits.shape[1] - 1)


def load_oracle(vocab: int = 5000, seq_len: int = 20, seed: int = ORACLE_SEED, cache_dir: Path | None = None):
    """The oracle's 10,000 training and 2,000 held-out sequences as a TextDataset."""
    from ganforge.data.text import TextDataset
    key = f"{FORMAT}-{vocab}-{seq_len}-{seed}-{TRAIN}-{HELD_OUT}"
    paths = None
    if cache_dir is not None:
        name = hashlib.sha256(key.encode()).hexdigest()[:16]
        paths = (Path(cache_dir) / f"oracle-{name}.npy", Path(cache_dir) / f"oracle-{name}.json")
    x = None if paths is None else cache.read_entry(paths[1], key, lambda m: _load(paths[0]), "oracle")
    if x is None:
        x = Oracle(vocab, seq_len, seed).sample(TRAIN + HELD_OUT, torch.Generator().manual_seed(seed + 1))
        if paths is not None:
            cache.write_entry(*paths, lambda f: np.save(f, x.numpy().astype(np.int32), allow_pickle=False),
                              {"format": FORMAT, "key": key}, "oracle")
    return TextDataset("text-oracle", "text", x[:TRAIN], vocab=[str(i) for i in range(vocab)], level="oracle",
                       held_out=x[TRAIN:], end=-1, oracle_seed=seed)


def _load(path: Path) -> Tensor:
    x = np.load(path, allow_pickle=False)
    if x.shape[0] != TRAIN + HELD_OUT or x.dtype != np.int32:
        raise ValueError(f"array {x.dtype}{x.shape} is not the oracle's")
    return torch.from_numpy(x.astype(np.int64))

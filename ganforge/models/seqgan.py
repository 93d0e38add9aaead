"""Text models over tokens: a recurrent generator and SeqGAN's CNN discriminator.

  Generator      z -> h0 = tanh(Linear(z)) (the initial state; LSTM: c0 = 0), then one token a
                 step: embed(previous token, or a learnt start vector) -> LSTM/GRU -> logits
                 over the vocabulary. G(z) samples token ids (B, L) at a temperature; log_probs
                 scores given tokens (MLE, policy gradient); rollouts completes prefixes
                 (SeqGAN's Monte-Carlo search); gumbel gives RelGAN's relaxed one-hot output.
                 After the end token a sequence stays at the end token (its padding).
  Discriminator  one-hot tokens (B, L, V), or the soft one-hot of Gumbel-softmax, times an
                 embedding matrix -> convolutions of widths 2..5 -> max over time -> a highway
                 layer -> dropout -> a logit (Kim 2014's CNN as SeqGAN uses it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.oracle import draw

CELLS = ("lstm", "gru")
WIDTHS = (2, 3, 4, 5)  # the discriminator's convolution widths (tokens)


class Generator(nn.Module):
    """z (B, z_dim) -> token ids (B, seq_len)."""

    kind = "text"  # pipelines: written by TextPipeline (`ganforge generate RUN --out lines.txt`)

    def __init__(self, z_dim: int, vocab: int, seq_len: int, width: int = 32, embed: int = 32,
                 cell: str = "lstm", end: int = 0, c_dim: int = 0):
        super().__init__()
        if c_dim:
            raise ValueError("text models are unconditional")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.hparams = dict(z_dim=z_dim, vocab=vocab, seq_len=seq_len, width=width, embed=embed, cell=cell, end=end)
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, 0, 0, vocab
        self.vocab, self.seq_len, self.end, self.lstm = vocab, seq_len, end, cell == "lstm"
        self.init = nn.Linear(z_dim, width)
        self.start = nn.Parameter(torch.randn(embed) * 0.1)
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = (nn.LSTM if self.lstm else nn.GRU)(embed, width, batch_first=True)
        self.out = nn.Linear(width, vocab)

    # ----------------------------------------------------------------- pieces
    def initial_state(self, z: Tensor):
        h = torch.tanh(self.init(z))[None]                     # (1, B, H)
        return (h, torch.zeros_like(h)) if self.lstm else h

    def step(self, x: Tensor, state) -> tuple[Tensor, object]:
        """One step: input embeddings (B, E) -> next-token logits (B, V), the new state."""
        h, state = self.rnn(x[:, None], state)
        return self.out(h[:, 0]), state

    def _finished(self, done: Tensor, token: Tensor) -> tuple[Tensor, Tensor]:
        """A finished sequence emits the end token again (the padding); returns (token, done)."""
        if self.end < 0:
            return token, done
        token = torch.where(done, torch.full_like(token, self.end), token)
        return token, done | (token == self.end)

    # ----------------------------------------------------------------- sampling
    def forward(self, z: Tensor, c: Tensor | None = None, temperature: float = 1.0,
                generator: torch.Generator | None = None) -> Tensor:
        """Token ids (B, L) drawn from softmax(logits / temperature)."""
        return self.sample_from(self.initial_state(z), self.start.expand(len(z), -1), self.seq_len,
                                temperature, generator)

    def sample_from(self, state, x: Tensor, steps: int, temperature: float = 1.0,
                    generator: torch.Generator | None = None, done: Tensor | None = None) -> Tensor:
        tokens = []
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device) if done is None else done
        for _ in range(steps):
            logits, state = self.step(x, state)
            token, done = self._finished(done, draw(logits / temperature, generator))
            tokens.append(token)
            x = self.embed(token)
        return torch.stack(tokens, 1)

    # ----------------------------------------------------------------- likelihood
    def logits(self, tokens: Tensor, z: Tensor) -> Tensor:
        """Teacher-forced next-token logits (B, L, V) of tokens (B, L)."""
        inputs = torch.cat([self.start.expand(len(z), 1, -1), self.embed(tokens[:, :-1])], dim=1)
        h, _ = self.rnn(inputs, self.initial_state(z))
        return self.out(h)

    def log_probs(self, tokens: Tensor, z: Tensor, temperature: float = 1.0) -> Tensor:
        """log p(token_t | tokens_<t, z) (B, L) under softmax(logits / temperature); 0 after the
        first end token (it is certain there)."""
        logits = self.logits(tokens, z).float() / temperature
        lp = -F.cross_entropy(logits.flatten(0, 1), tokens.flatten(),
                              reduction="none").view(tokens.shape)
        return lp * self.counted(tokens)

    def counted(self, tokens: Tensor) -> Tensor:
        """(B, L) 1 up to and with the first end token, 0 after it (all 1 without an end token)."""
        if self.end < 0:
            return torch.ones_like(tokens, dtype=torch.float)
        ended = (tokens == self.end).long().cumsum(1)
        return ((ended == 0) | ((ended == 1) & (tokens == self.end))).float()

    # ----------------------------------------------------------------- SeqGAN, RelGAN
    @torch.no_grad()
    def rollouts(self, z: Tensor, tokens: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
        """SeqGAN's Monte-Carlo search: for each prefix length t = 1..L-1, n completions of
        tokens[:, :t] drawn from G. Returns (L - 1, n, B, L)."""
        b, length = tokens.shape
        state, x = self.initial_state(z), self.start.expand(b, -1)
        out = []
        for t in range(1, length):
            _, state = self.step(x, state)  # state after the inputs up to token t - 1
            x = self.embed(tokens[:, t - 1])
            rep = (lambda s: s.repeat(1, n, 1))
            s = tuple(map(rep, state)) if self.lstm else rep(state)
            prefix = tokens[:, :t].repeat(n, 1)                      # (n * B, t)
            done = (prefix == self.end).any(1)                        # (an end is never a token id < 0)
            rest = self.sample_from(s, x.repeat(n, 1), length - t, generator=generator, done=done)
            out.append(torch.cat([prefix, rest], 1).view(n, b, length))
        return torch.stack(out)

    def gumbel(self, z: Tensor, beta: float, straight_through: bool = False,
               generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """RelGAN's output: at each step token = argmax(logits + g) (a draw from G's softmax),
        fed back as the next input, and softmax(beta * (logits + g)) for D (B, L, V), with
        Gumbel noise g; straight-through: the one-hot forwards, the softmax's gradient backwards.
        Returns (soft one-hot (B, L, V), token ids (B, L))."""
        state, x = self.initial_state(z), self.start.expand(len(z), -1)
        done = torch.zeros(len(z), dtype=torch.bool, device=z.device)
        soft, tokens = [], []
        for _ in range(self.seq_len):
            logits, state = self.step(x, state)
            u = torch.rand(logits.shape, device=z.device, generator=generator)
            noisy = logits.float() - torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))
            token, done_next = self._finished(done, noisy.argmax(-1))
            p = (beta * noisy).softmax(-1)
            one_hot = F.one_hot(token, self.vocab).to(p.dtype)
            if self.end >= 0:  # a finished sequence's padding is given, not chosen
                p = torch.where(done[:, None], one_hot, p)
            soft.append(one_hot + p - p.detach() if straight_through else p)
            tokens.append(token)
            done = done_next
            x = self.embed(token)
        return torch.stack(soft, 1), torch.stack(tokens, 1)


class Highway(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.transform, self.gate = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        t = torch.sigmoid(self.gate(x))
        return t * F.relu(self.transform(x)) + (1 - t) * x


class Discriminator(nn.Module):
    """Token ids (B, L) or (soft) one-hot (B, L, V) -> logits (B,)."""

    def __init__(self, vocab: int, seq_len: int, width: int = 64, embed: int = 64, dropout: float = 0.25,
                 c_dim: int = 0):
        super().__init__()
        if c_dim:
            raise ValueError("text models are unconditional")
        self.hparams = dict(vocab=vocab, seq_len=seq_len, width=width, embed=embed, dropout=dropout)
        self.c_dim, self.resolution, self.channels = 0, 0, vocab
        self.embedding = nn.Parameter(torch.randn(vocab, embed) * 0.1)  # (V, E): one-hot @ it is a lookup
        widths = [w for w in WIDTHS if w <= seq_len] or [seq_len]
        self.convs = nn.ModuleList(nn.Conv1d(embed, width, w) for w in widths)
        features = width * len(widths)
        self.highway = Highway(features)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(features, 1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        e = F.embedding(x, self.embedding) if x.dim() == 2 else x @ self.embedding  # (B, L, E)
        e = e.transpose(1, 2)                                                       # (B, E, L)
        h = torch.cat([F.relu(conv(e)).amax(-1) for conv in self.convs], 1)         # (B, F)
        return self.head(self.dropout(self.highway(h))).squeeze(1)

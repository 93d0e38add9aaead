"""MuseGAN (Dong et al. 2018): multi-track piano rolls (B, tracks, bars, steps, pitches).

Three ways to share the latent among tracks, the paper's three models:
  jamming   one bar generator and one critic per track, each with private latents only
  composer  one bar generator makes every track (as channels) from shared latents
  hybrid    one bar generator per track, fed shared and private latents (the paper's best)
Latents come as the paper's four kinds, each `part` wide: time-independent (one per phrase)
and time-dependent (a bar-by-bar sequence made by a temporal generator), shared by all tracks
(inter-track) or one per track (intra-track). The temporal generator is a GRU run bar after
bar from its latent, so `forward(z, bars=16)` writes pieces longer than the training phrases.
BatchNorm in G; no normalisation in D (it is trained with WGAN-GP, as in the paper).
Every layer is a kernel-equals-stride convolution, written as a `Patch` (see there).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

MODES = ("jamming", "composer", "hybrid")


def latent_parts(mode: str) -> tuple[int, int]:
    """(shared, private-per-track) latent kinds: each track's G sees shared + private parts,
    half of them time-independent and half through the temporal generator."""
    return {"jamming": (0, 2), "composer": (2, 0), "hybrid": (2, 2)}[mode]


class TemporalGenerator(nn.Module):
    """z (B, part) -> bar latents (B, bars, part): a GRU started from z, fed z at every bar."""

    def __init__(self, part: int, hidden: int):
        super().__init__()
        self.start = nn.Linear(part, hidden)
        self.gru = nn.GRU(part, hidden, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden, part), nn.BatchNorm1d(part), nn.ReLU())

    def forward(self, z: Tensor, bars: int) -> Tensor:
        h0 = torch.tanh(self.start(z))[None]                            # (1, B, hidden)
        y, _ = self.gru(z[:, None].expand(-1, bars, -1).contiguous(), h0)  # (B, bars, hidden)
        b = y.shape[0]
        return self.out(y.reshape(b * bars, -1)).reshape(b, bars, -1)


def patches_down(x: Tensor, axis: int, k: int) -> Tensor:
    """Channels-last x (N, ..., L, ..., C) -> (N, ..., L/k, ..., k*C): each run of k along
    `axis` gathered into the channels (a kernel-equals-stride convolution's input patches)."""
    shape = x.shape
    x = x.reshape(*shape[:axis], shape[axis] // k, k, *shape[axis + 1:])
    return x.movedim(axis + 1, -2).flatten(-2)


def patches_up(x: Tensor, axis: int, k: int) -> Tensor:
    """The inverse: (N, ..., L, ..., k*C) -> (N, ..., L*k, ..., C)."""
    x = x.unflatten(-1, (k, x.shape[-1] // k)).movedim(-2, axis + 1)
    return x.flatten(axis, axis + 1)


class Patch(nn.Module):
    """MuseGAN's layers are convolutions whose kernel equals their stride along one axis (1x12
    over a bar's pitches, 2x1 over time...): each is a linear map of non-overlapping patches.
    Done as one matmul on channels-last tensors it is the same function, and on a CPU ~10x
    faster than the 2-D/3-D convolution kernels with these odd shapes. `up`: transposed."""

    def __init__(self, c_in: int, c_out: int, axis: int, k: int, up: bool = False, norm: bool = False,
                 act: nn.Module | None = None):
        super().__init__()
        self.axis, self.k, self.up = axis, k, up
        self.linear = nn.Linear(c_in, c_out * k) if up else nn.Linear(c_in * k, c_out)
        self.norm = nn.BatchNorm1d(c_out) if norm else None
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        x = patches_up(self.linear(x), self.axis, self.k) if self.up else self.linear(patches_down(x, self.axis, self.k))
        if self.norm is not None:  # BatchNorm over every position, as BatchNorm2d/3d would
            x = self.norm(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        return x if self.act is None else self.act(x)


class BarGenerator(nn.Module):
    """One bar's latent (N, k) -> (N, channels, steps, pitches): time first (doubling the
    steps), then pitch (octaves, then the 12 notes of each)."""

    def __init__(self, k: int, channels: int, steps: int, pitches: int, width: int):
        super().__init__()
        doublings = 0
        while steps % 2 == 0 and doublings < 3:
            steps //= 2
            doublings += 1
        self.t0 = steps
        w = [width * 2 ** (doublings - i) for i in range(doublings + 1)]  # channels as time grows
        self.fc = nn.Sequential(nn.Linear(k, w[0] * self.t0), nn.BatchNorm1d(w[0] * self.t0), nn.ReLU())
        layers = [Patch(w[i], w[i + 1], 1, 2, up=True, norm=True, act=nn.ReLU()) for i in range(doublings)]
        layers += [Patch(w[-1], width, 2, pitches // 12, up=True, norm=True, act=nn.ReLU()),  # octaves
                   Patch(width, channels, 2, 12, up=True, act=nn.Tanh())]                   # notes
        self.net = nn.Sequential(*layers)

    def forward(self, v: Tensor) -> Tensor:
        h = self.fc(v).reshape(v.shape[0], self.t0, 1, -1)             # (N, t0, 1, C): time, pitch, channels
        return self.net(h).permute(0, 3, 1, 2)                          # (N, channels, steps, pitches)


class Generator(nn.Module):
    """z (B, z_dim) -> piano rolls (B, tracks, bars, steps, pitches) in [-1, 1]."""

    kind = "music"  # pipelines: written by ComposePipeline (`ganforge generate RUN --out piece.mid`)

    def __init__(self, z_dim: int, tracks: int, bars: int, steps: int, pitches: int,
                 mode: str = "hybrid", width: int = 64, c_dim: int = 0):
        super().__init__()
        if c_dim:
            raise ValueError("MuseGAN generators are unconditional")
        self.hparams = dict(z_dim=z_dim, tracks=tracks, bars=bars, steps=steps, pitches=pitches,
                            mode=mode, width=width)
        self.z_dim, self.c_dim, self.mode = z_dim, 0, mode
        self.tracks, self.bars, self.steps, self.pitches = tracks, bars, steps, pitches
        self.resolution, self.channels = 0, tracks
        if mode not in MODES:
            raise ValueError(f"unknown MuseGAN model {mode!r} (expected one of {MODES})")
        shared, private = latent_parts(mode)
        self.n_parts = shared + private * tracks
        self.part = part = z_dim // self.n_parts
        if part < 1 or steps % 4 or pitches % 12:
            raise ValueError(f"need z_dim >= {self.n_parts}, steps a multiple of 4 and whole octaves of pitches")
        k = part * (shared + private)                                   # one bar generator's input
        self.shared_temporal = TemporalGenerator(part, 4 * part) if shared else None
        self.private_temporal = nn.ModuleList(TemporalGenerator(part, 4 * part) for _ in range(tracks)) \
            if private else nn.ModuleList()
        n_bar_generators, channels = (1, tracks) if mode == "composer" else (tracks, 1)
        self.bar_generators = nn.ModuleList(BarGenerator(k, channels, steps, pitches, width)
                                            for _ in range(n_bar_generators))

    def forward(self, z: Tensor, c: Tensor | None = None, bars: int | None = None) -> Tensor:
        bars = bars or self.bars
        b, part = z.shape[0], self.part
        chunks = list(z[:, :part * self.n_parts].split(part, dim=1))  # n_parts of (B, part)
        shared = []
        if self.shared_temporal is not None:
            static, moving = chunks.pop(0), chunks.pop(0)
            shared = [static[:, None].expand(-1, bars, -1), self.shared_temporal(moving, bars)]
        outputs = []
        for i, gen in enumerate(self.bar_generators):
            private = []
            if len(self.private_temporal):
                static, moving = chunks.pop(0), chunks.pop(0)
                private = [static[:, None].expand(-1, bars, -1), self.private_temporal[i](moving, bars)]
            v = torch.cat(shared + private, dim=2).reshape(b * bars, -1)  # (B * bars, k)
            outputs.append(gen(v))                                       # (B * bars, ch, steps, P)
        x = torch.cat(outputs, dim=1)                                    # (B * bars, tracks, steps, P)
        return x.reshape(b, bars, self.tracks, self.steps, self.pitches).transpose(1, 2)


class Critic(nn.Module):
    """(B, tracks, bars, steps, pitches) -> (B,): two streams, pitch-then-time and
    time-then-pitch (MuseGAN's D), each a stack of Patch layers with the tracks as the
    input channels, then the bars of the phrase together."""

    def __init__(self, tracks: int, bars: int, steps: int, pitches: int, width: int = 64):
        super().__init__()
        act = nn.LeakyReLU(0.2)
        octaves = pitches // 12
        # axes of the channels-last input (B, bars, steps, pitches, tracks): 1 bars, 2 steps, 3 pitches
        time = []
        s = steps
        while s > 1:                                                     # halve the steps to one
            k = 2 if s % 2 == 0 else s
            time.append(Patch(width, width, 2, k, act=act))
            s //= k
        self.pitch_time = nn.Sequential(Patch(tracks, width, 3, 12, act=act),      # notes -> octaves
                                        Patch(width, width, 3, octaves, act=act), *time)
        self.time_pitch = nn.Sequential(Patch(tracks, width, 2, 4, act=act),       # steps -> beats
                                        Patch(width, width, 2, steps // 4, act=act),  # beats -> bar
                                        Patch(width, width, 3, 12, act=act),
                                        Patch(width, width, 3, octaves, act=act))
        self.phrase = Patch(2 * width, 4 * width, 1, bars, act=act)      # the bars together
        self.fc = nn.Linear(4 * width, 1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        x = x.permute(0, 2, 3, 4, 1)                                     # (B, bars, steps, P, tracks)
        h = torch.cat([self.pitch_time(x), self.time_pitch(x)], dim=-1)  # (B, bars, 1, 1, 2w)
        return self.fc(self.phrase(h).flatten(1)).squeeze(1)


class Discriminator(nn.Module):
    """One critic for all tracks (composer, hybrid), or one per track (jamming: their sum,
    so each critic's WGAN loss is its own track's; the gradient penalty is on the sum)."""

    def __init__(self, tracks: int, bars: int, steps: int, pitches: int, mode: str = "hybrid", width: int = 64):
        super().__init__()
        self.hparams = dict(tracks=tracks, bars=bars, steps=steps, pitches=pitches, mode=mode, width=width)
        self.jamming = mode == "jamming"
        self.c_dim, self.resolution, self.channels = 0, 0, tracks
        self.critics = nn.ModuleList(Critic(1, bars, steps, pitches, width) for _ in range(tracks)) \
            if self.jamming else nn.ModuleList([Critic(tracks, bars, steps, pitches, width)])

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        if not self.jamming:
            return self.critics[0](x)
        return sum(critic(x[:, i:i + 1]) for i, critic in enumerate(self.critics))

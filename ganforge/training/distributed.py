"""Many processes, one run: torchrun + torch.distributed + DistributedDataParallel.

`torchrun --nproc_per_node=N -m ganforge train ...` starts N copies of the trainer with
RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR in their environment. Each process owns one
GPU (NCCL) or a share of the CPU cores (gloo). What they share and what they do not:

  the global batch  `train.batch_size` is split evenly; each rank takes its slice of every
                    global batch (the same shuffled order on all ranks: an in-memory
                    DistributedSampler), so a run on N processes sees the same data as one
  shared streams    z, labels and penalty mixing weights are drawn for the global batch from
                    one seeded generator on every rank, and sliced; so with BatchNorm
                    synchronised (or absent) N processes compute what one process computes
  own streams       dropout and DiffAugment draw per rank (their patterns must differ)
  gradients         DDP averages them over ranks in its backward hooks (mean over the
                    global batch, as one process computes it)
  rank 0 only       pictures, logs, metrics, checkpoints, export; metrics that need many
                    samples generate them on all ranks and gather them to rank 0
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
import signal
import sys
import warnings
from dataclasses import dataclass
from typing import Iterator, NoReturn

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from ganforge.errors import GanforgeError


class PeerLost(GanforgeError):
    """Another training process died, or torchrun stopped this one because one did."""

    exit_code = 1
    every_rank = True  # each rank says it (other errors: rank 0 speaks for all)


@dataclass
class Distributed:
    """This process's place in the run; `Distributed()` is a plain single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False   # we created the process group, so we destroy it
    previous_sigterm: object = None  # the SIGTERM handler before ours: close() puts it back
    resume_hint: str = ""      # how to go on, said with any line that a peer's end stops this rank
    stopping: bool = False     # this rank is already ending with its one line: a SIGTERM adds none

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------ splitting the global batch
    def shard(self, x: Tensor) -> Tensor:
        """This rank's slice of a global batch (N, ...) -> (N / world_size, ...)."""
        return x.tensor_split(self.world_size)[self.rank] if self.enabled else x

    def local_batch(self, global_batch: int) -> int:
        if global_batch % self.world_size:
            raise GanforgeError(f"--batch-size {global_batch} is the global batch and must divide evenly among "
                                f"the {self.world_size} processes (e.g. {global_batch // self.world_size * self.world_size or self.world_size})")
        return global_batch // self.world_size

    # ------------------------------------------------------------ wrapping the networks
    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """DDP around a network that trains (identity on one process). DDP broadcasts rank 0's
        weights now, so every rank starts from the same ones. Every backward must reach all
        of the module's weights (the trainer sees to it: no find_unused_parameters traversal)."""
        if not self.enabled:
            return module
        ids = [device.index] if device.type == "cuda" else None
        # channels_last weights with one input channel have two valid stride patterns, and DDP
        # warns that the gradient's is not its buffer's: the same memory, harmless
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        # gradient_as_bucket_view: gradients live in DDP's all-reduce buffers (no copy in or out).
        # forward_sync_buffers off: rank 0's buffers sent before every forward cost ~7 % of a
        # fashion-dcgan step on 2 CPU processes; the spectral-norm vectors are the same on every
        # rank anyway (same weights), and so are BatchNorm's running statistics with
        # --sync-batchnorm; without it each rank keeps those of its own slices (rank 0's are
        # exported), as one process training on that slice size would.
        return DistributedDataParallel(module, device_ids=ids, gradient_as_bucket_view=True,
                                       forward_sync_buffers=False)  # (still synced once, at the start)

    # ------------------------------------------------------------ collectives
    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (e.g. decodes an image folder into the shared cache),
        then the others (which then read the cache)."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def mean(self, row: dict[str, float]) -> dict[str, float]:
        """A stats row averaged over the ranks that reported each name (rank 0 alone reports
        some, e.g. metrics), in rank 0's order, the same on every rank."""
        if not self.enabled:
            return row
        rows = self.all_gather(row)
        names = list(dict.fromkeys(n for r in rows for n in r))
        return {n: sum(r[n] for r in rows if n in r) / sum(n in r for r in rows) for n in names}

    def any(self, *flags: bool) -> list[bool]:
        """Each flag, True on every rank when it is True on any (to stop together on Ctrl-C
        or at the time budget, though each rank has its own clock): one all-reduce."""
        if not self.enabled:
            return list(flags)
        t = torch.tensor([float(f) for f in flags], device=self._device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]

    def broadcast(self, obj):
        """Rank 0's Python object, on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list | None:
        """Every rank's object, in rank order, on rank 0 (None elsewhere)."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def all_gather(self, obj) -> list:
        """Every rank's object, in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def _device(self) -> torch.device:
        return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        if self.previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self.previous_sigterm)
            self.previous_sigterm = None


def from_env(device_name: str, timeout_minutes: float) -> tuple[Distributed, str]:
    """Join the process group torchrun describes in the environment (NCCL for CUDA, gloo on
    the CPU); returns it and the device name this rank trains on. One process: no group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed(), device_name
    if not dist.is_available():
        raise GanforgeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if device_name.startswith("cuda:") or device_name == "mps" or (device_name == "cuda" and not cuda):
        raise GanforgeError(f"--device {device_name} under torchrun: use auto, cuda (each process takes the GPU "
                            "of its LOCAL_RANK) or cpu")
    if cuda:
        torch.cuda.set_device(local_rank)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if cuda else "gloo",
                                timeout=datetime.timedelta(minutes=timeout_minutes))
    if dist.get_world_size() != world:
        raise GanforgeError(f"the process group has {dist.get_world_size()} processes, WORLD_SIZE says {world}")
    info = Distributed(rank, world, local_rank, owns)
    info.previous_sigterm = _stop_on_sigterm(info)
    return info, f"cuda:{local_rank}" if cuda else "cpu"


def _stop_on_sigterm(info: Distributed):
    """torchrun ends the other workers with SIGTERM when one fails: say so in one line, with
    the resume hint. The signal may come at any moment, also while this rank is already
    raising its own line (it met the broken connection first) or closing: then it adds nothing,
    so the line with the hint is the one the user reads. Returns the handler it replaced (None
    off the main thread, where it leaves the default)."""
    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        if info.stopping:
            return
        info.stopping = True
        hint = f"; {info.resume_hint}" if info.resume_hint else ""
        raise PeerLost(f"rank {info.rank}: stopped by torchrun because another training process ended{hint}")
    with contextlib.suppress(ValueError):
        return signal.signal(signal.SIGTERM, handler)
    return None


def exit_process(code: int) -> NoReturn:
    """End a torchrun process now, its work done and its files closed. torch 2.13's gloo
    worker threads can drop their last reference to a tensor of a finished collective while
    Python shuts down; that needs the GIL, which is gone by then, and the process aborts
    (SIGABRT: torchrun reports the run as failed after it finished). Seen about once in 20
    2-process runs under load; skipping the interpreter's shutdown avoids it."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextlib.contextmanager
def peer_failures(dist_info: Distributed, resume_hint: str) -> Iterator[None]:
    """A collective that fails because another rank died becomes one line (not a gloo/NCCL
    traceback) that says the checkpoints are intact and how to resume."""
    dist_info.resume_hint = resume_hint  # torchrun's SIGTERM says it too (see _stop_on_sigterm)
    try:
        yield
    except PeerLost as e:
        raise e if resume_hint in str(e) else PeerLost(f"{e}; {resume_hint}") from None
    except (dist.DistError, RuntimeError) as e:
        if not dist_info.enabled or not _is_peer_failure(e):
            raise
        dist_info.stopping = True
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        reason = re.sub(r"^\[[^\]]*\]\s*", "", reason).split(". ")[0][:160]  # without gloo's source path
        raise PeerLost(f"rank {dist_info.rank}: lost contact with another training process ({reason}); "
                       f"{resume_hint}") from None


def _is_peer_failure(e: BaseException) -> bool:
    if isinstance(e, dist.DistError):
        return True
    text = str(e).lower()
    return any(s in text for s in ("connection closed", "connection reset", "broken pipe", "gloo", "nccl",
                                   "timed out", "timeout"))


"""Training on an image folder whose decoded size is larger than the memory the process may use.

    python benchmarks/big_data.py                          # 20,000 images at 128 px (983 MB decoded), 640 MB allowed
    python benchmarks/big_data.py --images 40000 --limit-mb 768

Makes a folder of JPEG photos-like images (smooth random colour fields, seeded), then runs
`ganforge train` on it at 128 px in a memory cgroup limited to --limit-mb (cgroup v1 or v2,
as root; where neither can be made the run is unlimited and only its peak memory is
reported). The first run decodes the folder into the cache beside the runs (streamed, a
chunk at a time); a second run reads the memory-mapped cache. The table gives the decoded
size, the limit, each run's peak resident memory, its anonymous part (what the limit cannot
reclaim: the mapped cache's pages are the OS's to drop) and whether it finished; the control
row is the same run with no cache to write, so the folder is decoded into memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ganforge.training.trainer import FOLDER_CACHE


def make_folder(root: Path, n: int, side: int = 160, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        low = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)  # a smooth field: JPEG keeps it small
        Image.fromarray(low).resize((side, side), Image.BICUBIC).save(root / f"{i:06d}.jpg", quality=85)


class MemoryCgroup:
    """A memory-limited cgroup for one child process (v2 if mounted so, else v1), or None."""

    def __init__(self, limit: int):
        self.path = None
        for base, limit_file in (("/sys/fs/cgroup", "memory.max"), ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")):
            if os.path.isfile(os.path.join(base, "cgroup.procs")) and (base != "/sys/fs/cgroup" or
                                                                        os.path.isfile(os.path.join(base, "cgroup.controllers"))):
                path = os.path.join(base, f"ganforge-bench-{os.getpid()}")
                try:
                    os.makedirs(path, exist_ok=True)
                    Path(path, limit_file).write_text(str(limit))
                    self.path = path
                    return
                except OSError:
                    continue

    def enter(self) -> None:  # (in the child, before exec)
        if self.path:
            Path(self.path, "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass


def _peak(pid: int, stop: threading.Event, out: dict) -> None:
    while not stop.is_set():
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            out["rss"] = max(out.get("rss", 0), int(fields["VmRSS"].split()[0]))
            out["anon"] = max(out.get("anon", 0), int(fields["RssAnon"].split()[0]))
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.05)


def train(folder: Path, out: Path, steps: int, group: MemoryCgroup) -> dict:
    argv = [sys.executable, "-m", "ganforge", "train", "--data", str(folder), "--resolution", "128",
            "--model", "dcgan", "--width", "8", "--batch-size", "16", "--steps", str(steps),
            "--sample-every", str(steps), "--checkpoint-every", str(steps), "--out", str(out), "--force",
            "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=group.enter)
    peak, stop = {}, threading.Event()
    watcher = threading.Thread(target=_peak, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    _, err = proc.communicate()
    stop.set()
    watcher.join()
    result = "finished" if proc.returncode == 0 else (
        "killed (out of memory)" if proc.returncode < 0 else f"failed: {err.strip().splitlines()[-1:]}")
    return {"seconds": time.perf_counter() - t0, "rss_mb": peak.get("rss", 0) / 1024,
            "anon_mb": peak.get("anon", 0) / 1024, "result": result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=20_000)
    ap.add_argument("--limit-mb", type=int, default=640)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    decoded_mb = args.images * 128 * 128 * 3 / 2 ** 20
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        t0 = time.perf_counter()
        make_folder(folder, args.images)
        print(f"made {args.images:,} images in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        group = MemoryCgroup(args.limit_mb * 2 ** 20)
        limit = f"{args.limit_mb} MB ({'cgroup' if group.path else 'no cgroup here: not enforced'})"
        try:
            rows = [("first run (decodes into the cache)", train(folder, Path(tmp) / "runs" / "a", args.steps, group)),
                    ("second run (reads the mapped cache)", train(folder, Path(tmp) / "runs" / "b", args.steps, group))]
            # the control: no cache can be written (a file where its folder goes), so the folder is
            # decoded into memory, as every run did before the cache was memory-mapped
            blocked = Path(tmp) / "blocked"
            blocked.mkdir()
            (blocked / FOLDER_CACHE).write_text("not a folder")
            rows.append(("control: no cache (decoded in memory)", train(folder, blocked / "c", args.steps, group)))
        finally:
            group.remove()
    print(f"\n{args.images:,} images decoded at 128x128 RGB = {decoded_mb:,.0f} MB; memory allowed: {limit}; "
          f"DCGAN width 8, batch 16, {args.steps} steps, 1 thread\n")
    print("| run | result | wall s | peak RSS MB | peak anonymous MB |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['result']} | {r['seconds']:.0f} | {r['rss_mb']:.0f} | {r['anon_mb']:.0f} |")


if __name__ == "__main__":
    main()

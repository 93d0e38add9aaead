"""Files written whole or not at all, whatever moment the process is killed or the disk fills.

`write(path, fill)` calls `fill(f)` on a temporary file beside `path` (`.NAME.PID.tmp`: same
folder, so the rename cannot cross file systems), flushes and fsyncs it, renames it over `path`
and fsyncs the folder. A reader sees the old file or the new one, never a torn one. A write
that fails removes its temporary file; one that the OS refused (a full disk, a read-only
folder) raises CannotWrite: one line naming the file, for the user rather than a traceback.

A process killed between creating and renaming its temporary file leaves it behind:
`remove_stale(folder, pattern)` deletes those whose writer (the PID in the name) is gone.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
from pathlib import Path
from typing import IO, Callable

from ganforge.errors import GanforgeError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_WRITER_PID = re.compile(r"\.(\d+)(?:-[0-9a-f]+)?\.tmp(?:\.old)?$")  # .NAME.PID.tmp, .NAME.PID-HEX.tmp[.old]


class CannotWrite(GanforgeError):
    """The OS refused a write (disk full, no permission): `reason` says why, in words."""

    def __init__(self, path: str | Path, error: OSError):
        self.path, self.disk_full = Path(path), error.errno in DISK_FULL
        self.reason = (f"the disk is full ({os.strerror(error.errno)})" if self.disk_full
                       else error.strerror or str(error))
        super().__init__(f"cannot write {path}: {self.reason}")


class _Recording:
    """The temporary file as `fill` sees it. torch.save reports a failed write as a RuntimeError
    ('unexpected pos'), np.save as an OSError without errno, Pillow as an 'encoder error': this
    remembers the OS's own error so that a full disk is called one. No fileno(), so that every
    byte (Pillow's too) comes through write()."""

    def __init__(self, f: IO[bytes]):
        self._f, self.error = f, None

    def write(self, data) -> int:
        try:
            return self._f.write(data)
        except OSError as e:
            self.error = self.error or e
            raise

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str):
        return getattr(self._f, name)


def temporary(path: Path) -> Path:
    """The temporary name beside `path` that a write by this process uses."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write(path: str | Path, fill: Callable[[IO[bytes]], object]) -> Path:
    """Write `path` atomically: `fill(f)` writes the bytes to a binary file object."""
    path = Path(path)
    tmp, sink = temporary(path), None
    try:
        _make_folder(path.parent)
        with open(tmp, "wb") as f:
            sink = _Recording(f)
            fill(sink)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # (a full disk must not keep a large partial file either)
        cause = sink.error if sink is not None and sink.error is not None else e
        if isinstance(cause, OSError) and cause.errno is not None:
            raise CannotWrite(path, cause) from None
        raise
    fsync(path.parent)  # make the rename itself durable
    return path


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the folder should be ('File exists' would puzzle)
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write(path, lambda f: f.write(data))


def write_text(path: str | Path, text: str) -> Path:
    return write(path, lambda f: f.write(text.encode("utf-8")))


def fsync(path: str | Path) -> None:
    """Flush a file, or a directory's entries (after a rename), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stale(folder: str | Path, pattern: str) -> list[Path]:
    """The temporaries matching `pattern` (a glob, e.g. '.step-*.tmp') in `folder` whose
    writing process (the PID in the name) is no longer alive."""
    try:
        candidates = sorted(Path(folder).glob(pattern))
    except OSError:
        return []
    return [p for p in candidates if (m := _WRITER_PID.search(p.name)) and not _alive(int(m.group(1)))]


def remove_stale(folder: str | Path, pattern: str) -> list[Path]:
    """Delete stale(folder, pattern), files or folders; returns them. Live writers' files are kept."""
    removed = []
    for p in stale(folder, pattern):
        try:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except OSError:
            pass  # (another process removed it first, or it cannot be: harmless)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or not a pid at all: leave its file alone
    return True

"""A file that takes `free` more bytes and then fails as a full disk does (ENOSPC): what
fitted stays written, as in a real temporary file on a full disk."""

from __future__ import annotations

import errno
import os


class FullDisk:
    def __init__(self, f, free: int):
        self._f, self.free = f, free

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        if len(data) > self.free:
            self._f.write(data[:self.free])
            self.free = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.free -= len(data)
        return self._f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)

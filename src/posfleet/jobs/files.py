"""Files a job writes: under a temporary name until complete, then renamed into place in one step.

A reader never sees half a file under the final name; a partial file left by a killed worker is
named in the job's checkpoint, so the next attempt removes it before it starts again.
"""

from __future__ import annotations

import os
from pathlib import Path


def partial(path: Path) -> Path:
    """The name `path` has while it is being written."""
    return path.with_name(path.name + ".part")


def promote(tmp: Path, final: Path) -> None:
    """Make the finished `tmp` durable and rename it to `final` atomically."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    try:
        fd = os.open(final.parent, os.O_RDONLY)
    except OSError:  # a directory cannot be opened on every platform; the rename itself is atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)

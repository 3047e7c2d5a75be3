"""Where checkpoints live on this server: the folder policy (a folder that cannot be written degrades to memory,
with a warning, and saving is tried again with the next finished run)."""
from __future__ import annotations

import errno
import re
import threading
import time
from pathlib import Path

from core.checkpoint import (SUFFIX, TMP_PREFIX, Checkpoint, file_name, key_of, load_checkpoint, run_key,
                             save_checkpoint)
from core.errors import LabError
from core.training import TrainConfig

KEY = re.compile(r"[0-9a-f]{16}")
STALE_TMP = 3600.0  # seconds: a temporary file this old is a crash's leftover, not a save in progress
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # no space left on the device, or the user's disk quota is used up


def disk_full(exc: BaseException) -> bool:
    """The error, or one it was raised from, says the disk is full (torch may wrap the OSError of a failed write)."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain, not a cycle
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in DISK_FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class CheckpointStore:
    """A folder of checkpoints. Bad files raise LabError; a folder we cannot write (read-only, full) gives a warning
    until a save succeeds again."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.warning: LabError | None = None  # set while saving fails: the page says models stay in memory
        self._lock = threading.Lock()
        self.clean_temporary()

    def clean_temporary(self, older_than: float = STALE_TMP) -> int:
        """Delete temporary files that a crash in the middle of a save left behind (only old ones: a younger one
        may be another server's save in progress); how many were removed."""
        removed, cutoff = 0, time.time() - older_than
        try:
            leftovers = [p for p in self.folder.glob(f"{TMP_PREFIX}*{SUFFIX}") if p.stat().st_mtime < cutoff]
        except OSError:
            return 0
        for path in leftovers:
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        return removed

    @property
    def writable(self) -> bool:
        """False while saving fails (read-only folder, full disk, a file where the folder should be)."""
        return self.warning is None

    def path(self, key: str) -> Path:
        """The file a run key is stored in; ValueError for anything but 16 hex digits (keys come from URLs)."""
        if not KEY.fullmatch(key):
            raise ValueError(f"not a run key: {key!r}")
        return self.folder / file_name(key)

    def load(self, config: TrainConfig, fingerprint: str) -> Checkpoint | None:
        """The stored run of this configuration, None if there is none; LabError if the file is bad."""
        return self.load_key(run_key(config, fingerprint), fingerprint, config)

    def load_key(self, key: str, fingerprint: str, config: TrainConfig | None = None) -> Checkpoint | None:
        """The stored run with this key, None if there is none; LabError if the file is bad."""
        path = self.path(key)
        try:
            if not path.is_file():
                return None
        except OSError:
            return None
        return load_checkpoint(path, fingerprint, config)

    def save(self, ckpt: Checkpoint, fingerprint: str) -> bool:
        """Store a finished run; False (and a warning for the page) when the folder cannot be written: full disk,
        read-only, not a folder. Every finished run tries again (space freed, folder fixed); a success clears the
        warning. Any other failure raises LabError("checkpoint.save_failed"). The previous file is left as it was."""
        try:
            with self._lock:
                save_checkpoint(self.folder, ckpt, fingerprint)
        except LabError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a model torch cannot serialise: the caller keeps it in memory
            if not (isinstance(exc, OSError) or disk_full(exc)):
                raise LabError("checkpoint.save_failed", f"{type(exc).__name__}: {exc}") from exc
            code = "checkpoint.disk_full" if disk_full(exc) else "checkpoint.readonly"
            self.warning = LabError(code, f"{type(exc).__name__}: {exc}", folder=str(self.folder))
            return False
        self.warning = None
        return True

    def recent_keys(self, limit: int) -> list[str]:
        """Keys of the newest checkpoint files, newest first."""
        try:
            files = [(p.stat().st_mtime, p) for p in self.folder.iterdir() if key_of(p)]
        except OSError:
            return []
        return [key_of(p) for _, p in sorted(files, reverse=True)[:limit]]

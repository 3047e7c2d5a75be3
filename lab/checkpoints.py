"""Where checkpoints live on this server: the folder policy (read-only folders degrade to memory, with a warning)."""
from __future__ import annotations

import re
import threading
from pathlib import Path

from core.checkpoint import Checkpoint, file_name, key_of, load_checkpoint, run_key, save_checkpoint
from core.errors import LabError
from core.training import TrainConfig

KEY = re.compile(r"[0-9a-f]{16}")


class CheckpointStore:
    """A folder of checkpoints. Bad files raise LabError; a folder we cannot write turns saving off, with a warning."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.warning: LabError | None = None  # set once saving has failed: the page says models stay in memory
        self._lock = threading.Lock()

    @property
    def writable(self) -> bool:
        """False after a save failed (read-only folder, full disk, a file where the folder should be)."""
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
        """Store a finished run; False (and a warning for the page) when the folder cannot be written."""
        if not self.writable:
            return False
        try:
            with self._lock:
                save_checkpoint(self.folder, ckpt, fingerprint)
            return True
        except OSError as exc:
            self.warning = LabError("checkpoint.readonly", str(exc), folder=str(self.folder))
            return False

    def recent_keys(self, limit: int) -> list[str]:
        """Keys of the newest checkpoint files, newest first."""
        try:
            files = [(p.stat().st_mtime, p) for p in self.folder.iterdir() if key_of(p)]
        except OSError:
            return []
        return [key_of(p) for _, p in sorted(files, reverse=True)[:limit]]

"""The service's daily backup (``[backup]`` in the settings): one thread that sleeps until the
time of day, writes a dated archive into the folder and keeps the newest ``keep``.

``serve --workers N`` runs N processes, each with this thread: the one that takes the folder's
lock and finds no backup of the last hour writes it, the others let it be.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..config import BackupSettings
from ..services import backup
from ..store import Store

log = logging.getLogger("geo_tracker.service")
#: A scheduled backup is skipped when another process recorded one this recently.
RECENT = timedelta(hours=1)


class BackupScheduler:
    def __init__(self, store: Store, settings: BackupSettings):
        self.store, self.settings = store, settings
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="geo_tracker-backups", daemon=True)

    def start(self) -> "BackupScheduler":
        if self.settings.folder:
            self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping.is_set():
            now = datetime.now()
            if self.stopping.wait((backup.next_run(self.settings.hour_minute, now) - now).total_seconds()):
                return
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a failed night must not end the service; /readyz shows its age
                log.exception("scheduled backup into %s failed", self.settings.folder)

    def run_once(self) -> Path | None:
        """The backup of this night, unless another process of the service is taking or took it."""
        folder = Path(self.settings.folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".geo_tracker-backup.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            last = backup.recent_backups(self.store, 1)
            if last and datetime.now(timezone.utc) - last[0]["taken_at"] < RECENT:
                return None
            done = backup.backup_to_folder(self.store, folder, keep=self.settings.keep, trigger="scheduled",
                                           actor="geo_tracker")
        log.info("scheduled backup %s (%d bytes, %.1f s)", done.path, done.size_bytes, done.seconds)
        return done.path

"""gunicorn's settings file, read from the working directory by every `gunicorn` started here.

With PROMETHEUS_MULTIPROC_DIR set, the workers write their request histograms to files in that
directory and /metrics adds them up (config/monitoring.py); files left by an earlier run would be
added too, so the directory is emptied when the server starts.
"""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()

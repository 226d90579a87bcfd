"""What produced a number: versions, hardware and the git commit, for the run record."""
from __future__ import annotations

import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import evalkit


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the evalkit checkout (None when not a git checkout)."""
    where = path or Path(evalkit.__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_environment(device: str = "cpu") -> dict[str, Any]:
    env: dict[str, Any] = {
        "evalkit": evalkit.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "hostname": socket.gethostname(),
        "torch": None,
        "cuda": None,
        "gpu": None,
    }
    if "torch" in sys.modules or device.startswith("cuda"):
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.version.cuda
        if torch.cuda.is_available() and str(device).startswith("cuda"):
            env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env

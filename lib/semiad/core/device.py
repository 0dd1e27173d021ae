"""Device selection: ``device="auto"`` picks CUDA when present, else CPU."""

from __future__ import annotations

import torch


def resolve_device(device: str = "auto") -> torch.device:
    """Map ``"auto" | "cpu" | "cuda" | "cuda:N"`` to a :class:`torch.device`, failing clearly."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    return dev

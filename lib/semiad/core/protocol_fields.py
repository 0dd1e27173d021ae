"""The shared identity of the papers' protocol values (Deep SAD, DADS, RLAD).

Each paper whose released code differs from its text has one frozen dataclass with a ``name`` and one
field per difference (:class:`semiad.core.detectors.protocol.TrainingProtocol`,
:class:`semiad.dads.protocol.DADSProtocol`, :class:`semiad.rlad.protocol.RLADProtocol`). This mixin
gives all three the same three operations: the settings a cache key must contain, a copy with exactly the
named fields switched (one ablation row), and the fields in which two protocols differ.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import TypeVar

P = TypeVar("P", bound="ProtocolFields")


class ProtocolFields:
    """Mixin for a frozen dataclass with a ``name`` field (not part of any cache key)."""

    def settings(self) -> dict:
        """Every field but ``name``: what a cache key must contain."""
        return {k: v for k, v in asdict(self).items() if k != "name"}

    def switch(self: P, **changes) -> P:
        """A copy with ``changes`` applied, named ``"<name> | field=value, ..."`` (one ablation row)."""
        known = {f.name for f in fields(self)} - {"name"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown protocol fields {sorted(unknown)}; known: {sorted(known)}")
        label = ", ".join(f"{k}={v}" for k, v in changes.items())
        return replace(self, name=f"{self.name} | {label}", **changes)

    def differences(self: P, other: P) -> dict[str, tuple]:
        """``{field: (self's value, other's value)}`` for every field the two protocols set differently."""
        a, b = self.settings(), other.settings()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def preset_named(name: str | P | None, presets: tuple[P, ...], default: P | str, kind: str = "protocol") -> P:
    """A preset by its name (notebook parameters are strings); a protocol value passes through unchanged;
    ``None`` gives ``default`` (a preset or its name)."""
    if name is None:
        name = default
    if isinstance(name, ProtocolFields):
        return name
    for preset in presets:
        if preset.name == name:
            return preset
    raise ValueError(f"unknown {kind} {name!r}; choose one of {[p.name for p in presets]}")

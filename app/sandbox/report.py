"""What a sandbox achieved, layer by layer, in a form that travels as JSON (never pickle)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

LAYERS = ("namespaces", "no_new_privs", "rlimits", "landlock", "seccomp")
STATUSES = ("on", "off", "unavailable")


@dataclass(frozen=True)
class Layer:
    """One layer's status ("on", "off" or "unavailable") and a short reason."""

    status: str = "off"
    reason: str = "not reached"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown layer status {self.status!r}")


@dataclass(frozen=True)
class SandboxReport:
    """Every layer's outcome, the kernel's Landlock ABI, and whether opens are refused by seccomp."""

    namespaces: Layer = field(default_factory=Layer)
    no_new_privs: Layer = field(default_factory=Layer)
    rlimits: Layer = field(default_factory=Layer)
    landlock: Layer = field(default_factory=Layer)
    seccomp: Layer = field(default_factory=Layer)
    landlock_abi: int = 0
    seccomp_denies_open: bool = False

    @property
    def confined(self) -> bool:
        """True only if seccomp is on and files are confined (by Landlock, or no open at all)."""
        files = self.landlock.status == "on" or self.seccomp_denies_open
        return self.seccomp.status == "on" and files

    def with_layer(self, name: str, status: str, reason: str) -> "SandboxReport":
        return replace(self, **{name: Layer(status, reason)})

    def to_dict(self) -> dict:
        layers = {name: {"status": getattr(self, name).status, "reason": getattr(self, name).reason} for name in LAYERS}
        return {
            **layers,
            "landlock_abi": self.landlock_abi,
            "seccomp_denies_open": self.seccomp_denies_open,
            "confined": self.confined,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SandboxReport":
        """The inverse of `to_dict` (the derived `confined` is recomputed, not trusted)."""
        layers = {name: Layer(str(data[name]["status"]), str(data[name]["reason"])) for name in LAYERS}
        abi, denies_open = int(data["landlock_abi"]), bool(data["seccomp_denies_open"])
        return cls(**layers, landlock_abi=abi, seccomp_denies_open=denies_open)


class SandboxError(RuntimeError):
    """A required layer could not be applied. The process is partly confined: it must exit.

    `report` tells which layers were applied before the failure, and which one failed ("off").
    """

    def __init__(self, message: str, report: SandboxReport):
        super().__init__(message)
        self.report = report

"""Which backward passes are recorded in full.

A pass in full is its graph (the ops since the previous pass), values, backward steps and the update
steps after it. Every other pass gets only its summary. The first run keeps passes in full until
there are `detailed_passes` of them or `detail_ops` ops; a program that ran more passes than that
is run a second time (programs are deterministic under the seed) with the passes that matter in full:
the first, the last, and the ones asked for, with what runs before the first and after the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DetailPlan:
    requested: frozenset[int] = frozenset()
    total: int | None = None  # known in a second run: how many passes the program makes
    max_passes: int = 6
    max_ops: int = 3000
    detailed: set[int] = field(default_factory=set)  # the passes this run kept in full
    switched: bool = False  # the first run stopped recording in full

    @classmethod
    def second_run(cls, total: int, requested: frozenset[int], max_passes: int) -> "DetailPlan":
        return cls(requested=requested, total=total, max_passes=max_passes)

    @property
    def selected(self) -> set[int]:
        """The second run's passes in full: first, last, asked for (at most `max_passes` in all)."""
        chosen = {0, self.total - 1} if self.total else {0}
        extra = sorted(k for k in self.requested if 0 <= k < (self.total or 0) and k not in chosen)
        return chosen | set(extra[: max(0, self.max_passes - len(chosen))])

    def detail_window(self, completed: int, ops: int) -> bool:
        """Record ops in full now, `completed` passes into the program?"""
        if self.total is not None:
            return completed in self.selected or completed == self.total
        if self.switched or completed >= self.max_passes or ops >= self.max_ops:
            self.switched = True
            return False
        return True

    def needs_second_run(self, total: int) -> bool:
        """After a first run of `total` passes: are the last pass or asked-for ones missing?"""
        if not self.switched or total == 0:
            return False
        wanted = {total - 1} | {k for k in self.requested if 0 <= k < total}
        return not wanted <= self.detailed

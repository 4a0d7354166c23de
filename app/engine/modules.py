"""Which `nn.Module` call an op runs in, and what each module and parameter is called.

Global forward hooks (torch's `register_module_forward_pre_hook`) see every module call, including
the ones torch's own code makes (`nn.Sequential` calling its layers). A module seen for the first
time is named after the program variable that holds it (`net`), its children by their attribute path
(`net.fc1`), its parameters likewise (`net.fc1.weight`), so the page can group ops by module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from app.engine.naming import module_names, name_in_frame


@dataclass
class ModuleCall:
    module: torch.nn.Module
    path: str
    kind: str  # the class name
    caller: int  # id() of the program frame the call was made from (0: none)
    number: int  # counts module calls: the same number, the same call


class ModuleTracker:
    """Keeps the stack of module calls. `on_result(output)` is called when a module returns to
    program code (not to another module's code), which is when its output gets a program name."""

    def __init__(self, sites):
        self.sites = sites
        self.paths: dict[int, str] = {}  # id(module) -> its path
        self.tensor_paths: dict[int, str] = {}  # id(parameter or buffer) -> its path
        self.stack: list[ModuleCall] = []
        self.classes: dict[str, str] = {}  # path -> class name, of every module called (containers too)
        self._calls_made = 0
        self.on_result = None
        self._handles: list = []
        self._keep_alive: list = []
        self._unnamed = 0

    def __enter__(self) -> "ModuleTracker":
        self._handles = [register_module_forward_pre_hook(self._entered),
                         register_module_forward_hook(self._left, always_call=True)]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.stack.clear()

    @property
    def current(self) -> tuple[str, str, int] | None:
        """(path, class name, call number) of the innermost module call running now."""
        if not self.stack:
            return None
        return self.stack[-1].path, self.stack[-1].kind, self.stack[-1].number

    def called_from(self, frame) -> bool:
        """True while the innermost module call was made from `frame` (its ops are that call's insides)."""
        return bool(self.stack) and self.stack[-1].caller == id(frame)

    def _entered(self, module, args) -> None:
        frame = self.sites.program_frame()
        self._calls_made += 1
        path, kind = self.path_of(module), type(module).__name__
        self.classes.setdefault(path, kind)
        self.stack.append(ModuleCall(module, path, kind, id(frame) if frame else 0, self._calls_made))

    def _left(self, module, args, output) -> None:
        if not self.stack or self.stack[-1].module is not module:
            return
        call = self.stack.pop()
        returns_to_program = not self.stack or self.stack[-1].caller != call.caller
        if returns_to_program and self.on_result is not None:
            self.on_result(output)

    def path_of(self, module: torch.nn.Module) -> str:
        path = self.paths.get(id(module))
        if path is None:
            name = name_in_frame(self.sites.program_frame(), module)
            if name is None:
                self._unnamed += 1
                name = f"{type(module).__name__.lower()}{self._unnamed}"
            self.register(name, module)
            path = self.paths[id(module)]
        return path

    def register(self, name: str, module: torch.nn.Module, prefer: bool = False) -> None:
        """Name a module and everything below it. Names already given are kept unless `prefer`
        (the program's global variables at the end name things better than a guess did)."""
        modules, tensors = module_names(name, module)
        if prefer:
            self.paths.update(modules)
            self.tensor_paths.update(tensors)
        else:
            for key, path in modules.items():
                self.paths.setdefault(key, path)
            for key, path in tensors.items():
                self.tensor_paths.setdefault(key, path)
        self._keep_alive.append(module)  # ids stay unique while the trace is built

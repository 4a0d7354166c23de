"""Names for tensors, from the program's own text and variables.

A tensor takes the name of the variable or attribute it is assigned to. Three sources, cheapest first:
- the assignment an op's result goes to: `y = x * w` is read from the source once, so an op whose
  span is exactly the right-hand side of `y = ...` names its result `y` (also inside functions and
  loops, `h = self.fc1(x)` in a `forward`);
- the program's variables, looked up when a tensor the graph has not seen is first used (a leaf made
  without a recorded op, such as `Variable(...)` or an `nn.Parameter`);
- the program's globals at the end, and module parameters by path (`model.fc1.weight`).
"""

from __future__ import annotations

import ast

import torch

from app.engine.source_map import SourceMap


def assignment_targets(tree: ast.AST, source_map: SourceMap) -> dict[tuple[int, int, int, int], str]:
    """{(line, byte col, end line, end byte col) of a right-hand side: the name it is assigned to}."""
    targets = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            value = node.value
            key = (value.lineno, value.col_offset, value.end_lineno, value.end_col_offset)
            text = source_map.node_text(target, 40)
            if text:
                targets[key] = text
    return targets


def name_in_frame(frame, value) -> str | None:
    """The name of a variable of `frame` (its locals, then the program's globals) bound to `value`."""
    if frame is None:
        return None
    scopes = [frame.f_locals] if frame.f_code.co_name != "<module>" else []
    scopes.append(frame.f_globals)
    for scope in scopes:
        for name, bound in list(scope.items()):
            if bound is value and not name.startswith("__"):
                return name
    return None


def module_names(prefix: str, module: torch.nn.Module) -> tuple[dict[int, str], dict[int, str]]:
    """({id(submodule): path}, {id(parameter or buffer): path}) below a module known as `prefix`."""
    modules = {id(sub): f"{prefix}.{path}" if path else prefix for path, sub in module.named_modules()}
    tensors = {id(p): f"{prefix}.{path}" for path, p in module.named_parameters()}
    tensors.update({id(b): f"{prefix}.{path}" for path, b in module.named_buffers()})
    return modules, tensors


def program_globals(namespace: dict) -> list[tuple[str, object]]:
    """The program's own top-level variables (not modules it imported, not dunders)."""
    return [(name, value) for name, value in namespace.items()
            if not name.startswith("__") and not isinstance(value, type(torch))]

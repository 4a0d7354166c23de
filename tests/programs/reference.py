"""Reference runs: a program run by plain CPython + torch, and what torch holds when it ends.

`run_plain` runs a program as `__main__` in a fresh interpreter (`sys.executable`), in a temporary
working directory, with `OMP_NUM_THREADS=1`. Its stdout is the program's alone: the results travel back
as JSON through a file in that temporary directory. What comes back (`Reference`):

- `output`: the printed lines. The text is split on "\\n" and a final empty piece (the newline that ends
  the last line) is dropped, so `print("a"); print()` gives `["a", ""]`.
- `grads`: `.grad` as torch holds it when the program ends, flattened row-major to floats (NaN and
  infinities included), or None:
    * every global variable bound to a leaf tensor that requires grad (an `nn.Parameter` too), under
      the variable's name, e.g. `w`;
    * every parameter of every global `torch.nn.Module`, under `"{var}.{name}"` where `name` is what
      `named_parameters()` gives, e.g. `model.fc1.weight`, `rgnet.0.block 0.0.bias`.
- `values`: the last value of every global 0-d tensor or Python float whose name looks like a loss
  (`loss`, `train_loss`, `cost`, `J`, `J_new`, `L`, `l`, `err`, `nll`...), as a float.
- `stderr`: what the program wrote there (warnings), for diagnostics only.

A program that raises (other than `SystemExit(0)`), times out, or leaves no result raises
`PlainRunError` with the tail of its stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PlainRunError", "Reference", "run_plain"]

PROGRAM_FILE = "program.py"
RESULT_FILE = "reference-result.json"


@dataclass
class Reference:
    output: list[str]
    grads: dict[str, list[float] | None]
    values: dict[str, float] = field(default_factory=dict)
    stderr: str = ""
    losses: list[float] = field(default_factory=list)  # each backward's root (its mean), in order
    params: dict[str, list[float]] = field(default_factory=dict)  # each leaf parameter's final value


class PlainRunError(RuntimeError):
    """The program did not run to its end under plain Python."""


# Runs inside the child interpreter: `python -c _RUNNER <program path> <result path>`.
# It prints nothing itself; stdout belongs to the program.
_RUNNER = r'''
import builtins, json, re, sys, traceback

program_path, result_path = sys.argv[1], sys.argv[2]
LOSS_LIKE = re.compile(r"(?i)loss|cost|^(j|j_\w*|l|err|error|nll)$")


def write(result):
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


import torch as _torch

losses = []
_backward, _grad = _torch.autograd.backward, _torch.autograd.grad


def _note(roots):
    roots = [roots] if isinstance(roots, _torch.Tensor) else list(roots)
    losses.append(float(roots[0].detach().double().mean()))


def _recorded_backward(tensors, *args, **kwargs):
    _note(tensors)
    return _backward(tensors, *args, **kwargs)


def _recorded_grad(outputs, *args, **kwargs):
    _note(outputs)
    return _grad(outputs, *args, **kwargs)


_torch.autograd.backward, _torch.autograd.grad = _recorded_backward, _recorded_grad  # Tensor.backward calls it

with open(program_path, encoding="utf-8") as handle:
    source = handle.read()
sys.argv = [program_path]
namespace = {"__name__": "__main__", "__file__": program_path, "__builtins__": builtins}
try:
    exec(compile(source, program_path, "exec"), namespace)
except SystemExit as exit_:
    if exit_.code not in (None, 0):
        write({"error": f"SystemExit({exit_.code!r})"})
        sys.exit(3)
except BaseException:
    sys.stdout.flush()
    text = traceback.format_exc()
    sys.stderr.write(text)
    write({"error": text})
    sys.exit(3)
sys.stdout.flush()

grads, values, params = {}, {}, {}
torch = sys.modules.get("torch")


def flat(grad):
    if grad is None:
        return None
    return [float(v) for v in grad.detach().to("cpu").reshape(-1).to(torch.float64).tolist()]


for name, value in list(namespace.items()):
    if name.startswith("__"):
        continue
    if torch is not None and isinstance(value, torch.nn.Module):
        for param_name, param in value.named_parameters():
            grads[f"{name}.{param_name}"] = flat(param.grad)
            params[f"{name}.{param_name}"] = flat(param)
        continue
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_leaf and value.requires_grad:
            grads[name] = flat(value.grad)
            params[name] = flat(value)
        if value.dim() == 0 and value.is_floating_point() and LOSS_LIKE.search(name):
            values[name] = float(value.detach())
        continue
    if isinstance(value, float) and LOSS_LIKE.search(name):
        values[name] = value

write({"grads": grads, "values": values, "losses": losses, "params": params})
'''


def _program_text(path_or_source: str | os.PathLike) -> tuple[str, str]:
    """(source text, label for messages) from a path or from source text."""
    if isinstance(path_or_source, os.PathLike):
        path = Path(path_or_source)
        return path.read_text(encoding="utf-8"), str(path)
    text = str(path_or_source)
    if "\n" not in text and text.endswith(".py") and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8"), text
    return text, "<source>"


def _lines(stdout: str) -> list[str]:
    lines = stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def run_plain(path_or_source: str | os.PathLike, timeout_s: float = 30) -> Reference:
    """Run a program (a path to a .py file, or source text) with plain Python + torch."""
    source, label = _program_text(path_or_source)
    env = dict(os.environ)
    for variable in ("PYTHONSTARTUP", "PYTHONINSPECT"):
        env.pop(variable, None)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    with tempfile.TemporaryDirectory(prefix="grafo-plain-") as workdir:
        program = Path(workdir) / PROGRAM_FILE
        program.write_text(source, encoding="utf-8")
        result_path = Path(workdir) / RESULT_FILE
        command = [sys.executable, "-X", "utf8", "-c", _RUNNER, str(program), str(result_path)]
        try:
            done = subprocess.run(
                command, cwd=workdir, env=env, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise PlainRunError(f"{label}: still running after {timeout_s} s") from exc
        stdout = done.stdout.decode("utf-8", errors="replace")
        stderr = done.stderr.decode("utf-8", errors="replace")
        result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else None
    if done.returncode != 0 or result is None or "error" in result:
        detail = (result or {}).get("error") or stderr[-3000:] or f"exit status {done.returncode}"
        raise PlainRunError(f"{label}: plain run failed:\n{detail}")
    return Reference(output=_lines(stdout), grads=result["grads"], values=result["values"], stderr=stderr,
                     losses=result["losses"], params=result["params"])

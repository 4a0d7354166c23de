"""The interpreter: runs the checked AST of a program, one allowlisted construct at a time.

There is no `eval` or `exec` anywhere. Each AST node type has one method here; anything without a
method was already refused by `syntax.check`. Values a program can hold are checked after every
expression (`check_value`), integers are kept small, and tensor work goes through torch with the
recorder and the budget guard watching.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import re
from typing import Any

import torch

from app.engine import allowlist
from app.engine.bindings import Function, GradMode, Method, NamedTuple, Namespace, PrintOnly, resolve
from app.errors import ProgramError

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
}
_IN_PLACE = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul, ast.Div: operator.itruediv,
    ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod, ast.Pow: operator.ipow, ast.MatMult: operator.imatmul,
}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_FORMAT_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")

_PLAIN_TYPES = (bool, int, float, str, type(None), torch.Tensor, torch.dtype, slice, range, type(Ellipsis))
_HANDLE_TYPES = (Namespace, Function, Method, PrintOnly, GradMode)


def _type_name(value) -> str:
    return "tensor" if isinstance(value, torch.Tensor) else type(value).__name__


class Interpreter:
    """Executes statements against a runtime (`tracer.ProgramRun`) that records what happens."""

    def __init__(self, run):
        self.run = run
        self.limits = run.limits
        self.source_map = run.source_map
        self.context = run.context
        self.names: dict[str, Any] = {}
        self.builtins = run.builtins

    # --- statements ----------------------------------------------------------------------
    def execute(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            try:
                self.run.deadline.check()
                getattr(self, "_stmt_" + type(statement).__name__)(statement)
            except ProgramError as error:
                if error.line is None:
                    error.line, error.col = self.source_map.place(statement)
                raise
            finally:
                self.run.after_statement(statement)

    def _stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def _stmt_Expr(self, node: ast.Expr) -> None:
        self.eval(node.value)

    def _stmt_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in allowlist.IMPORTABLE_MODULES:
                self._refuse_import(alias.name, node)
            if alias.asname:
                self.names[alias.asname] = Namespace(alias.name)
            else:
                self.names[alias.name.split(".")[0]] = Namespace(alias.name.split(".")[0])

    def _stmt_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if node.level or (node.module, alias.name) not in allowlist.IMPORTABLE_NAMES:
                self._refuse_import(f"{node.module}.{alias.name}", node)
            self.names[alias.asname or alias.name] = resolve(f"{node.module}.{alias.name}")

    def _refuse_import(self, name: str, node: ast.AST) -> None:
        raise ProgramError(
            "forbidden",
            f"cannot import {name}: Grafo programs may import torch, torch.nn.functional "
            "and torch.autograd.Variable only",
            *self.source_map.place(node),
        )

    def _stmt_Assign(self, node: ast.Assign) -> None:
        value = self.eval(node.value)
        for target in node.targets:
            self.assign(target, value)

    def _stmt_AugAssign(self, node: ast.AugAssign) -> None:
        self.context.stack.append(node)
        try:
            current = self.eval(_as_load(node.target))
            operand = self.eval(node.value)
            try:
                value = self._binary(node.op, current, operand, node, in_place=True)
            except ProgramError:
                raise
            except Exception as error:  # torch refusing an in-place op (`a += b` of other shapes)
                raise self.run.translate_error(error, node) from None
        finally:
            self.context.stack.pop()
        self.assign(node.target, value)

    def _stmt_With(self, node: ast.With) -> None:
        if len(node.items) != 1 or node.items[0].optional_vars is not None:
            raise ProgramError("forbidden", "only `with torch.no_grad():` and `with torch.enable_grad():` are supported",
                               *self.source_map.place(node))
        mode = self.eval(node.items[0].context_expr)
        if not isinstance(mode, GradMode):
            raise ProgramError("forbidden", "only `with torch.no_grad():` and `with torch.enable_grad():` are supported",
                               *self.source_map.place(node))
        with torch.set_grad_enabled(mode.enabled):
            self.execute(node.body)

    # --- assignment ----------------------------------------------------------------------
    def assign(self, target: ast.expr, value: Any) -> None:
        try:
            self._assign(target, value)
        except ProgramError as error:
            if error.line is None:
                error.line, error.col = self.source_map.place(target)
            raise
        except Exception as error:  # torch refusing an item or .grad assignment is the program's error
            raise self.run.translate_error(error, target) from None

    def _assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = value
            if isinstance(value, torch.Tensor):
                self.run.graph.bind_name(value, target.id, self.source_map.span(target))
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._unpack(target, value)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            index = self.eval(target.slice)
            self.context.stack.append(target)
            try:
                self._set_item(container, index, value)
            finally:
                self.context.stack.pop()
        elif isinstance(target, ast.Attribute):
            self._set_attribute(self.eval(target.value), target.attr, value)
        else:
            raise ProgramError("forbidden", "cannot assign to this", *self.source_map.place(target))

    def _unpack(self, target: ast.Tuple | ast.List, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            length = value.shape[0] if value.dim() else 0
            if length != len(target.elts):
                raise ProgramError("type", f"cannot unpack a tensor of {length} rows into {len(target.elts)} names",
                                   *self.source_map.place(target))
            value = tuple(value)
        if not isinstance(value, (tuple, list)):
            raise ProgramError("type", f"cannot unpack a {_type_name(value)} value", *self.source_map.place(target))
        if len(value) != len(target.elts):
            raise ProgramError("type", f"expected {len(target.elts)} values to unpack, got {len(value)}",
                               *self.source_map.place(target))
        for element, item in zip(target.elts, value):
            self.assign(element, item)

    def _set_item(self, container, index, value) -> None:
        if isinstance(container, torch.Tensor):
            container[index] = value
        elif isinstance(container, list):
            # Only one item, only a plain value: a list can then never grow, contain itself, or
            # make every list that shares it bigger than when it was checked (see check_value).
            if not isinstance(index, int) or isinstance(index, bool):
                raise ProgramError("forbidden", "list items can only be assigned one at a time (x[i] = value)")
            if isinstance(value, (list, tuple, range)):
                raise ProgramError("forbidden", "a list item can be a number, a string or a tensor, not another list")
            container[index] = self.check_value(value)
        else:
            raise ProgramError("type", f"cannot assign items of a {_type_name(container)} value")

    def _set_attribute(self, obj, name: str, value) -> None:
        if not isinstance(obj, torch.Tensor) or name not in allowlist.TENSOR_SETTABLE:
            raise ProgramError("forbidden", f"cannot set attribute {name!r}; only tensor .grad and .requires_grad")
        if name == "grad" and not (value is None or isinstance(value, torch.Tensor)):
            raise ProgramError("type", ".grad can only be set to a tensor or None")
        if name == "requires_grad" and not isinstance(value, bool):
            raise ProgramError("type", ".requires_grad can only be set to True or False")
        setattr(obj, name, value)
        self.run.graph.refresh_flags(obj)

    # --- expressions ---------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        self.context.stack.append(node)
        try:
            value = getattr(self, "_expr_" + type(node).__name__)(node)
            return self.check_value(value)
        except ProgramError as error:
            if error.line is None:
                error.line, error.col = self.source_map.place(node)
            raise
        except Exception as error:  # torch and Python errors become program errors at this node
            raise self.run.translate_error(error, node) from None
        finally:
            self.context.stack.pop()

    def _expr_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _expr_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        if node.id in self.builtins:
            return Function(node.id, self.builtins[node.id])
        if node.id in ("torch", "F", "Variable"):
            hint = "add `import torch`" if node.id == "torch" else (
                "add `import torch.nn.functional as F`" if node.id == "F" else "add `from torch.autograd import Variable`")
            raise ProgramError("name", f"name {node.id!r} is not defined ({hint})")
        if hasattr(builtins, node.id):
            raise ProgramError("forbidden", f"Python's built-in {node.id!r} is not available in Grafo programs")
        raise ProgramError("name", f"name {node.id!r} is not defined")

    def _expr_Attribute(self, node: ast.Attribute) -> Any:
        obj = self.eval(node.value)
        name = node.attr
        if isinstance(obj, Namespace):
            return resolve(f"{obj.path}.{name}")
        if isinstance(obj, torch.Tensor):
            value = self._tensor_attribute(obj, name)
            if name == "grad" and value is None:
                self.run.grad_read(obj, self.source_map.text(node.value), node)
            return value
        if isinstance(obj, NamedTuple) and name in obj.fields:
            return obj[obj.fields.index(name)]
        raise ProgramError("forbidden", f"{_type_name(obj)} values have no attribute {name!r} in Grafo programs")

    def _tensor_attribute(self, tensor: torch.Tensor, name: str) -> Any:
        if name == "grad_fn":
            grad_fn = tensor.grad_fn
            return None if grad_fn is None else PrintOnly(f"<{type(grad_fn).__name__}>", "grad_fn")
        if name in allowlist.TENSOR_ATTRIBUTES:
            value = getattr(tensor, name)
            if isinstance(value, torch.Tensor) and name in ("grad", "data"):
                self.run.graph.note_expression(value, self.source_map.text(self.context.current),
                                               self.source_map.span(self.context.current))
            return value
        if name in allowlist.TENSOR_METHODS:
            return Method(tensor, name)
        raise ProgramError("forbidden", f"tensor.{name} is not available in Grafo programs")

    def _expr_Call(self, node: ast.Call) -> Any:
        function = self.eval(node.func)
        args = [self.eval(argument) for argument in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg in allowlist.FORBIDDEN_KEYWORDS:
                raise ProgramError("forbidden", f"the keyword argument {keyword.arg}= is not allowed in Grafo programs",
                                   *self.source_map.place(keyword))
            kwargs[keyword.arg] = self.eval(keyword.value)
        if isinstance(function, Function):
            return self.run.call_function(function, args, kwargs)
        if isinstance(function, Method):
            return self.run.call_method(function.tensor, function.name, args, kwargs)
        raise ProgramError("type", f"a {_type_name(function)} value is not callable")

    def _expr_BinOp(self, node: ast.BinOp) -> Any:
        return self._binary(node.op, self.eval(node.left), self.eval(node.right), node)

    def _binary(self, op: ast.operator, left, right, node: ast.AST, in_place: bool = False) -> Any:
        _check_operands(op, left, right, self.limits)
        function = (_IN_PLACE if in_place else _BINARY)[type(op)]
        return function(left, right)

    def _expr_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        _require_number_or_tensor(operand, "unary -")
        return -operand if isinstance(node.op, ast.USub) else +operand

    def _expr_BoolOp(self, node: ast.BoolOp) -> Any:
        value = self.eval(node.values[0])
        for operand in node.values[1:]:
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
            value = self.eval(operand)
        return value

    def _expr_Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        result = True
        for op, comparator in zip(node.ops, node.comparators):
            right = self.eval(comparator)
            outcome = _COMPARE[type(op)](left, right)
            if len(node.ops) == 1:
                return outcome
            result = result and outcome
            if not result:
                return result
            left = right
        return result

    def _expr_IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _expr_Subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        index = self.eval(node.slice)
        if not isinstance(container, (torch.Tensor, list, tuple, torch.Size, range, str)):
            raise ProgramError("type", f"a {_type_name(container)} value cannot be indexed")
        return container[index]

    def _expr_Slice(self, node: ast.Slice) -> slice:
        parts = [None if part is None else self.eval(part) for part in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def _expr_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.eval(element) for element in node.elts)

    def _expr_List(self, node: ast.List) -> list:
        return [self.eval(element) for element in node.elts]

    def _expr_JoinedStr(self, node: ast.JoinedStr) -> str:
        return "".join(self.eval(part) for part in node.values)

    def _expr_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = self.eval(node.value)
        spec = "" if node.format_spec is None else self.eval(node.format_spec)
        if not _FORMAT_SPEC.match(spec):
            raise ProgramError("forbidden", f"the format {spec!r} is not supported")
        if node.conversion == ord("r"):
            value = self.run.to_text(value, repr_style=True)
        elif node.conversion == ord("s"):
            value = self.run.to_text(value)
        return self.run.format_value(value, spec)

    # --- values --------------------------------------------------------------------------
    def check_value(self, value: Any) -> Any:
        """Only known, inert kinds of value may exist in a program (and integers stay small)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > self.limits.max_int_bits:
                raise ProgramError("limit", f"integer too large (more than {self.limits.max_int_bits} bits)")
            return value
        if isinstance(value, str) and len(value) > self.limits.max_string_length:
            raise ProgramError("limit", f"string longer than {self.limits.max_string_length:,} characters")
        if isinstance(value, torch.Tensor) and (value.device.type != "cpu" or value.is_complex()):
            raise ProgramError("forbidden", "only real-valued CPU tensors are supported")
        if isinstance(value, _PLAIN_TYPES) or isinstance(value, _HANDLE_TYPES):
            return value
        if isinstance(value, torch.Size):
            return value
        if isinstance(value, tuple) and hasattr(type(value), "n_fields") and type(value).__module__ == "torch.return_types":
            return NamedTuple.of(tuple(value), tuple(type(value).__match_args__))
        if isinstance(value, (list, tuple)):
            if len(value) > self.limits.max_sequence_length:
                raise ProgramError("limit", f"a list of {len(value):,} items is over the limit")
            self._check_nested(value)
            return value
        raise ProgramError("type", f"{type(value).__name__} values are not supported in Grafo programs")

    def _check_nested(self, value: list | tuple) -> None:
        """Bound what a list holds in all, nested lists counted as often as they appear.

        Lists can share items, so `a = [a, a]` forty times is a few hundred bytes that printing,
        comparing or `torch.tensor()` would walk 2**40 times. Here every distinct list is visited
        once (memoised by identity), its weight being the sum of its items' weights (a range
        weighs its length, anything else 1), and the walk stops as soon as the limit is passed.
        Item types are checked on the way, at any depth.
        """
        limit = self.limits.max_sequence_length
        weights: dict[int, int] = {}
        pending: set[int] = set()
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if expanded:
                total = 0
                for item in node:
                    total += weights[id(item)] if isinstance(item, (list, tuple)) else _leaf_weight(item)
                    if total > limit:
                        raise ProgramError("limit", f"a list holding more than {limit:,} items in all "
                                           "(nested lists counted) is over the limit")
                weights[key] = max(1, total)
                pending.discard(key)
                continue
            if key in weights:
                continue
            if key in pending:
                raise ProgramError("forbidden", "a list cannot contain itself")
            pending.add(key)
            stack.append((node, True))
            for item in node:
                if isinstance(item, (list, tuple)):
                    if id(item) not in weights:
                        stack.append((item, False))
                elif not isinstance(item, _PLAIN_TYPES + _HANDLE_TYPES):
                    self.check_value(item)


def _leaf_weight(item) -> int:
    return max(1, len(item)) if isinstance(item, range) else 1


def _as_load(target: ast.expr) -> ast.expr:
    """The same target, read instead of written (for `x += 1`), at the same place in the source."""
    if isinstance(target, ast.Name):
        node = ast.Name(id=target.id, ctx=ast.Load())
    elif isinstance(target, ast.Attribute):
        node = ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load())
    elif isinstance(target, ast.Subscript):
        node = ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    else:
        raise ProgramError("forbidden", "this augmented assignment target is not supported")
    for field in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        setattr(node, field, getattr(target, field, None))
    return node


def _require_number_or_tensor(value, what: str) -> None:
    if not isinstance(value, (int, float, torch.Tensor)):
        raise ProgramError("type", f"{what} needs a number or a tensor, not {_type_name(value)}")


def _check_operands(op: ast.operator, left, right, limits) -> None:
    """Refuse, before computing, what would take unbounded time or memory in plain Python."""
    for value in (left, right):
        if not isinstance(value, (int, float, torch.Tensor, list, tuple, str)):
            raise ProgramError("type", f"unsupported operand: {_type_name(value)}")
    sequences = [v for v in (left, right) if isinstance(v, (list, tuple, str))]
    if sequences:
        if isinstance(op, ast.Add) and len(sequences) == 2 and type(left) is type(right):
            return
        raise ProgramError("type", "arithmetic on lists, tuples and strings is limited to joining two of the same kind")
    if isinstance(op, ast.Pow) and _is_int(left) and _is_int(right):
        if right < 0 or abs(left) <= 1:
            return
        if right * left.bit_length() > limits.max_int_bits:
            raise ProgramError("limit", f"{left} ** {right} is too large (more than {limits.max_int_bits} bits)")
    if isinstance(op, ast.Pow) and isinstance(left, float) and isinstance(right, (int, float)):
        if math.isfinite(left) and abs(left) > 1 and abs(right) > 1e6:
            raise ProgramError("limit", "this power is too large")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

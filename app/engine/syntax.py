"""Parse a program and check its shape against the language Grafo accepts.

This is the static half of the allowlist: which statements and expressions exist at all, how many,
how deep. It runs before anything is evaluated, so a refused program costs no torch time, and the
interpreter's recursion is bounded by `max_expression_depth` before it starts.
"""

from __future__ import annotations

import ast

from app.engine.source_map import SourceMap
from app.errors import ProgramError
from app.settings import Limits

ALLOWED_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.AugAssign, ast.Expr, ast.With, ast.Pass)

ALLOWED_EXPRESSIONS = (
    ast.Constant, ast.Name, ast.Attribute, ast.Call, ast.keyword, ast.BinOp, ast.UnaryOp, ast.BoolOp,
    ast.Compare, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.IfExp, ast.JoinedStr,
    ast.FormattedValue, ast.Load, ast.Store, ast.alias, ast.withitem, ast.Module,
    # operator tokens
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult,
    ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)

# Words a newcomer understands, for the constructs most often tried.
_FRIENDLY_NAMES = {
    ast.FunctionDef: "function definitions (def)", ast.AsyncFunctionDef: "function definitions",
    ast.ClassDef: "class definitions", ast.For: "for loops", ast.While: "while loops",
    ast.If: "if statements", ast.Try: "try statements", ast.Raise: "raise", ast.Assert: "assert",
    ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Return: "return",
    ast.Lambda: "lambda", ast.ListComp: "list comprehensions", ast.DictComp: "dict comprehensions",
    ast.SetComp: "set comprehensions", ast.GeneratorExp: "generator expressions", ast.Dict: "dicts",
    ast.Set: "sets", ast.Starred: "* unpacking", ast.NamedExpr: "the := operator", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.AnnAssign: "annotated assignments",
    ast.BitAnd: "the & operator", ast.BitOr: "the | operator", ast.BitXor: "the ^ operator",
    ast.LShift: "the << operator", ast.RShift: "the >> operator", ast.Invert: "the ~ operator",
    ast.Is: "the is operator", ast.IsNot: "the is not operator", ast.In: "the in operator",
    ast.NotIn: "the not in operator", ast.Match: "match statements",
}


def _place(node: ast.AST) -> tuple[int | None, int | None]:
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    return line, (col + 1 if col is not None else None)


def parse(source: str) -> ast.Module:
    """ast.parse, with every failure turned into a ProgramError."""
    try:
        return ast.parse(source, mode="exec")
    except SyntaxError as error:
        col = error.offset if error.offset else None
        raise ProgramError("syntax", f"syntax error: {error.msg}", error.lineno, col)
    except (RecursionError, MemoryError):
        raise ProgramError("limit", "the program is nested too deeply to parse", None, None)
    except ValueError as error:  # e.g. source with NUL bytes
        raise ProgramError("syntax", f"cannot parse the program: {error}", None, None)


def _refuse(node: ast.AST, place: ast.AST) -> None:
    what = _FRIENDLY_NAMES.get(type(node), type(node).__name__)
    line, col = _place(place)
    raise ProgramError("forbidden", f"Grafo programs cannot use {what}", line, col)


def _check_identifier(name: str, node: ast.AST) -> None:
    if name.startswith("__") or name.startswith("_"):
        line, col = _place(node)
        raise ProgramError("forbidden", f"names starting with an underscore ({name!r}) are not allowed", line, col)


def _check_node(node: ast.AST, place: ast.AST) -> None:
    if isinstance(node, ast.stmt):
        if not isinstance(node, ALLOWED_STATEMENTS):
            _refuse(node, place)
    elif not isinstance(node, ALLOWED_EXPRESSIONS):
        _refuse(node, place)
    if isinstance(node, ast.Name):
        _check_identifier(node.id, node)
    elif isinstance(node, ast.Attribute):
        _check_identifier(node.attr, node)
    elif isinstance(node, ast.keyword):
        if node.arg is None:
            line, col = _place(node)
            raise ProgramError("forbidden", "** unpacking is not supported in Grafo programs", line, col)
        _check_identifier(node.arg, node)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (complex, bytes)):
        line, col = _place(node)
        kind = "complex numbers" if isinstance(node.value, complex) else "bytes literals"
        raise ProgramError("forbidden", f"{kind} are not supported in Grafo programs", line, col)
    elif isinstance(node, ast.FormattedValue) and node.conversion not in (-1, ord("s"), ord("r")):
        line, col = _place(node)
        raise ProgramError("forbidden", "this f-string conversion is not supported", line, col)


def check(tree: ast.Module, limits: Limits, source_map: SourceMap) -> int:
    """Walk the tree once, iteratively, checking every node. Returns the number of statements."""
    try:
        return _walk(tree, limits)
    except ProgramError as error:  # the AST counts columns in UTF-8 bytes; people count characters
        if error.line is not None and error.col is not None:
            error.col = source_map.char_col(error.line, error.col - 1)
        raise


def _walk(tree: ast.Module, limits: Limits) -> int:
    statements = 0
    nodes = 0
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, parent = stack.pop()
        place = node if hasattr(node, "lineno") else parent  # operator tokens carry no position
        nodes += 1
        if nodes > limits.max_ast_nodes:
            raise ProgramError("limit", f"the program is too large (more than {limits.max_ast_nodes} syntax nodes)",
                               *_place(place))
        if depth > limits.max_expression_depth:
            raise ProgramError("limit", f"an expression is nested more than {limits.max_expression_depth} levels deep",
                               *_place(place))
        if isinstance(node, ast.stmt):
            statements += 1
            if statements > limits.max_statements:
                raise ProgramError("limit", f"the program has more than {limits.max_statements} statements",
                                   *_place(node))
        _check_node(node, place)
        for child in reversed(list(ast.iter_child_nodes(node))):  # reversed: visit in source order
            stack.append((child, depth + 1, place))
    return statements

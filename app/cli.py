"""Command line: `python -m app trace FILE` prints a trace as JSON; `python -m app serve` runs the server."""

from __future__ import annotations

import argparse
import json
import sys

from app.errors import ProgramError


def _trace_command(args: argparse.Namespace) -> int:
    from app.teaching.annotate import traced

    source = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    try:
        result = traced(source, root=args.root, gradcheck=not args.no_gradcheck, eps=args.eps)
    except ProgramError as error:
        print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
        return 2
    print(result.model_dump_json(indent=2 if args.pretty else None))
    return 0


def _serve_command(args: argparse.Namespace) -> int:
    from app.service.server import run

    run(host=args.host, port=args.port, workers=args.workers, trusted_local=args.trusted_local)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    trace_parser = commands.add_parser("trace", help="trace a program and print the trace as JSON")
    trace_parser.add_argument("file", help="program file, or - for standard input")
    trace_parser.add_argument("--root", default=None, help="tensor to call backward() on if the program does not")
    trace_parser.add_argument("--eps", type=float, default=1e-3, help="finite-difference step (default 1e-3)")
    trace_parser.add_argument("--no-gradcheck", action="store_true", help="skip the finite-difference check")
    trace_parser.add_argument("--pretty", action="store_true", help="indent the JSON")
    trace_parser.set_defaults(handler=_trace_command)

    serve_parser = commands.add_parser("serve", help="run the web server")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=None, help="program worker processes")
    serve_parser.add_argument("--trusted-local", action="store_true",
                              help="if the kernel sandbox cannot be entered, run programs anyway: only for "
                                   "your own code on your own machine (GRAFO_ALLOW_UNSANDBOXED=1 does the same)")
    serve_parser.set_defaults(handler=_serve_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)

"""Command line: `python -m app trace FILE` prints a trace as JSON; `python -m app serve` runs the server;
`python -m app open SCRIPT [ARGS]` runs your own script and opens its graph in the browser.

`trace FILE` runs a program in this process, with the server's limits but not its sandbox: it is for
programs you trust (a stranger's program belongs on the server, whose workers are confined).
`trace --local SCRIPT [ARGS]` and `open` run a script of yours as `python SCRIPT ARGS` would, with
your own rights and no limits."""

from __future__ import annotations

import argparse
import json
import sys

from app.errors import ProgramError


def _trace_command(args: argparse.Namespace) -> int:
    from app.teaching.annotate import traced
    from app.trace_model import wire_json

    if args.local:
        return _local_trace_command(args)
    if args.script_args:
        print("grafo: arguments after the program are for --local scripts only", file=sys.stderr)
        return 2
    source = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    try:
        result = traced(source, root=args.root, gradcheck=not args.no_gradcheck, eps=args.eps)
    except ProgramError as error:
        print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
        return 2
    print(wire_json(result, indent=2 if args.pretty else None))
    return 0


_TRUST_NOTE = "grafo: running {} with your own rights (no sandbox, no limits): it can do whatever you can"


def _record_script(args: argparse.Namespace):
    """Run the script as `python FILE ARGS` would; (recording, None) or (None, exit code) when it failed."""
    from app.local import trace_script

    print(_TRUST_NOTE.format(args.file), file=sys.stderr)
    try:
        return trace_script(args.file, args.script_args, root=args.root, gradcheck=not args.no_gradcheck,
                            eps=args.eps), None
    except OSError as error:
        print(f"grafo: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return None, 2
    except ProgramError as error:
        cause = error.__context__
        if cause is not None and not isinstance(cause, ProgramError):
            _print_script_traceback(cause, args.file)
        if args.command == "trace":
            print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
        else:
            print(f"grafo: {error.message} (line {error.line})" if error.line else f"grafo: {error.message}",
                  file=sys.stderr)
        return None, 2


def _print_script_traceback(error: BaseException, filename: str) -> None:
    """The script's own traceback, from its first frame on, without Grafo's frames."""
    import os
    import traceback
    from pathlib import Path

    entry, script = error.__traceback__, os.path.realpath(filename)
    while entry is not None and entry.tb_frame.f_code.co_filename != script:
        entry = entry.tb_next
    grafo = str(Path(__file__).resolve().parent) + os.sep
    frames = [frame for frame in traceback.extract_tb(entry) if not frame.filename.startswith(grafo)]
    print("Traceback (most recent call last):", file=sys.stderr)
    print("".join(traceback.format_list(frames) + traceback.format_exception_only(type(error), error)),
          end="", file=sys.stderr)


def _local_trace_command(args: argparse.Namespace) -> int:
    recording, code = _record_script(args)
    if recording is None:
        return code
    print(recording.to_json(indent=2 if args.pretty else None))
    return 0


def _open_command(args: argparse.Namespace) -> int:
    import webbrowser

    from app.local.server import LocalServer

    recording, code = _record_script(args)
    if recording is None:
        return code
    for line in recording.trace.output:  # what the script printed, which the trace kept
        print(line)
    server = LocalServer({"1": recording.payload()}, port=args.port)
    url = server.url_of("1")
    if args.no_browser or not webbrowser.open(url):
        print(f"grafo: the graph of {args.file} is at {url}", file=sys.stderr)
    else:
        print(f"grafo: opened {url} in your browser", file=sys.stderr)
    print("grafo: serving until Ctrl-C", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


def _serve_command(args: argparse.Namespace) -> int:
    from app.service.server import run

    run(host=args.host, port=args.port, workers=args.workers, trusted_local=args.trusted_local)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    trace_parser = commands.add_parser(
        "trace", help="trace a program and print the trace as JSON",
        description="Traces FILE in this process with the server's limits, but not in its sandbox: for programs "
                    "you trust (the server's workers are the place for a stranger's). --local runs FILE as your "
                    "own script instead, with your rights and no limits.")
    trace_parser.add_argument("file", help="program file, or - for standard input")
    trace_parser.add_argument("--root", default=None, help="tensor to call backward() on if the program does not")
    trace_parser.add_argument("--eps", type=float, default=1e-3, help="finite-difference step (default 1e-3)")
    trace_parser.add_argument("--no-gradcheck", action="store_true", help="skip the finite-difference check")
    trace_parser.add_argument("--pretty", action="store_true", help="indent the JSON")
    trace_parser.add_argument("--local", action="store_true",
                              help="run FILE as your own script (python FILE ARGS: argv, its folder on sys.path, "
                                   "__main__), with your rights and no limits")
    trace_parser.add_argument("script_args", nargs="*", metavar="ARGS",
                              help="the script's arguments (--local; put -- before ones that start with -)")
    trace_parser.set_defaults(handler=_trace_command)

    open_parser = commands.add_parser("open", help="run your own script and open its graph in the browser",
                                      description="Runs SCRIPT as `python SCRIPT ARGS` would, with your own "
                                                  "rights (no sandbox), records it, and serves the page on "
                                                  "127.0.0.1 until Ctrl-C.")
    open_parser.add_argument("file", metavar="SCRIPT", help="the Python script to run")
    open_parser.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS",
                             help="the script's arguments: everything after SCRIPT")
    open_parser.add_argument("--root", default=None, help="tensor to call backward() on if the script does not")
    open_parser.add_argument("--eps", type=float, default=1e-3, help="finite-difference step (default 1e-3)")
    open_parser.add_argument("--no-gradcheck", action="store_true", help="skip the finite-difference check")
    open_parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    open_parser.add_argument("--no-browser", action="store_true", help="print the URL instead of opening it")
    open_parser.set_defaults(handler=_open_command)

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

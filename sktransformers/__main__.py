"""Command line: ``sktransformers serve DIRECTORY`` and ``sktransformers export-onnx``.

Also ``python -m sktransformers ...``. The package's console script
``sktransformers`` calls :func:`main`.
"""

from __future__ import annotations

import argparse
import math
import sys

from ._version import __version__


def _positive_int(text):
    """argparse type: an int >= 1 (a clear usage error, exit status 2, otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer (1 or more)")
    return value


def _port(text):
    """argparse type: a TCP port, 1-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (1-65535)")
    return value


def _non_negative_float(text):
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 <= value < math.inf):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number >= 0")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="sktransformers", description="sktransformers command line tools."
    )
    parser.add_argument("--version", action="version", version=f"sktransformers {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve a saved estimator or an ONNX export over HTTP",
        description=(
            "Serve a directory written by save_pretrained (torch) or export_onnx (ONNX "
            "Runtime, no torch) with FastAPI under uvicorn: POST /predict, POST /transform, "
            "GET /healthz, /readyz, /metrics, / and (unless --no-docs) /docs, /openapi.json."
        ),
    )
    serve.add_argument("directory", help="directory from save_pretrained or export_onnx")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)",
    )
    serve.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes, each with its own copy of the model (default 1)",
    )
    serve.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="compute threads per worker (default: cores / workers)",
    )
    serve.add_argument(
        "--max-batch-size",
        type=_positive_int,
        default=None,
        help="most texts per model call when micro-batching (default: 32 "
        "when the model runs on a GPU, 1 = no batching on a CPU)",
    )
    serve.add_argument(
        "--max-wait-ms",
        type=_non_negative_float,
        default=0.0,
        help="how long a batch waits for more requests after the first "
        "(default 0: start as soon as the model is free; requests "
        "arriving during a model call form the next batch)",
    )
    serve.add_argument(
        "--no-batching",
        action="store_true",
        help="one model call per request (same as --max-batch-size 1)",
    )
    serve.add_argument(
        "--max-texts",
        type=_positive_int,
        default=256,
        help="most texts per request (default 256; more is answered 413)",
    )
    serve.add_argument(
        "--max-chars",
        type=_positive_int,
        default=10_000,
        help="most characters per text (default 10000; more is answered 413)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=None,
        help="most bytes per request body, counted as they arrive whatever "
        "the transfer encoding (default: room for --max-texts pairs of "
        "--max-chars escaped characters; more is answered 413)",
    )
    serve.add_argument(
        "--precision",
        choices=["fp32", "int8"],
        default=None,
        help="ONNX exports: which graph (default int8 when exported)",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=_non_negative_float,
        default=30.0,
        help="seconds to finish in-flight requests on shutdown (default 30)",
    )
    serve.add_argument(
        "--no-docs",
        action="store_true",
        help="serve neither the interactive docs (/docs) nor the OpenAPI schema (/openapi.json)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's and the server's log level (default info: the model "
        "served at startup, one line per request)",
    )

    export = commands.add_parser(
        "export-onnx",
        help="export a saved estimator directory to ONNX",
        description="Export a directory written by save_pretrained to an ONNX directory.",
    )
    export.add_argument("directory", help="directory from save_pretrained")
    export.add_argument("output", help="directory to write")
    export.add_argument(
        "--quantize",
        choices=["int8"],
        default=None,
        help="also write the int8 graph (dynamic quantization)",
    )
    export.add_argument("--opset", type=int, default=None, help="ONNX opset (default 18)")
    return parser


def main(argv=None):
    """Entry point of the ``sktransformers`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from .deploy._serve import serve

            serve(
                args.directory,
                host=args.host,
                port=args.port,
                workers=args.workers,
                log_level=args.log_level,
                graceful_timeout=args.graceful_timeout,
                max_batch_size=1 if args.no_batching else args.max_batch_size,
                max_wait_ms=args.max_wait_ms,
                max_texts=args.max_texts,
                max_chars=args.max_chars,
                max_body_bytes=args.max_body_bytes,
                threads=args.threads,
                precision=args.precision,
                docs=not args.no_docs,
            )
        elif args.command == "export-onnx":
            from . import estimators  # noqa: F401  (the estimators register for loading)
            from .deploy._export import export_onnx
            from .engine._persistence import load

            estimator = load(args.directory)  # the class the directory names, checked
            out = export_onnx(estimator, args.output, quantize=args.quantize, opset=args.opset)
            print(f"wrote {out}")
    except (ValueError, ImportError, FileNotFoundError) as exc:
        print(f"sktransformers {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

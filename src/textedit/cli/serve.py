"""``textedit serve``: a local web page to edit an image with a description."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="a local web demo: upload an image, type a description, see the edit and its edit map",
        description="Serve a page where you upload an image, type a description and see the "
        "edit, the edit map (where the model edited, for models that have one) and the explanation figure. Binds to "
        "127.0.0.1 (this machine only) unless --host says otherwise. Standard library only.",
    )
    p.add_argument(
        "--model",
        help="a bundled model's name or a saved model folder (default: the bundled mimnet64_birds)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes the demo to your network)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument(
        "--max-upload-mb", type=float, default=10.0, help="largest upload accepted (default 10 MB)"
    )
    p.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N or mps"
    )
    p.add_argument("--quiet", action="store_true", help="do not log each request")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from textedit.editing.loading import load_for_editing
    from textedit.editing.server import check_server_options, is_loopback, make_server

    check_server_options(args.port, args.max_upload_mb)  # before the model loads
    model = load_for_editing(args.model, args.device)
    server = make_server(
        model,
        args.host,
        args.port,
        args.max_upload_mb,
        model_name=str(args.model or "mimnet64_birds"),
        quiet=args.quiet,
    )
    if not is_loopback(args.host):
        print(
            f"warning: serving on {args.host}: anyone who can reach this machine can use the demo",
            file=sys.stderr,
        )
    print(f"textedit serve: {server.url} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0

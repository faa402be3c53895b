"""Screenshot the web demo (``textedit serve``) after an edit, for the docs.

    python scripts/screenshot_serve.py                       # the bundled model -> docs/assets/editing/serve.png
    python scripts/screenshot_serve.py --model runs/x/model --out page.png

Starts the server on a free loopback port, drives the page in headless chromium with
playwright (as the browser test does: upload ``examples/images/bird_128.png``, type the
README's description, submit), waits until the result panels are visible and saves a
full-page screenshot. Needs playwright and chromium (``.ci/run`` installs chromium).
"""

from __future__ import annotations

import argparse
import shutil
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="bundled name or saved model folder (default: the bundled model)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "assets" / "editing" / "serve.png")
    p.add_argument("--image", type=Path, default=ROOT / "examples" / "images" / "bird_128.png")
    p.add_argument("--text", default="this bird has a red head and white wings")
    args = p.parse_args(argv)

    from playwright.sync_api import expect, sync_playwright

    from textedit.editing.loading import load_for_editing
    from textedit.editing.server import make_server

    model = load_for_editing(args.model, "cpu")
    server = make_server(model, port=0, model_name=str(args.model or "mimnet64_birds"), quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(server.url)
            page.set_input_files("#file", str(args.image))
            page.fill("#text", args.text)
            page.click("#submit")
            expect(page.locator("#result")).to_be_visible(timeout=120_000)
            expect(page.locator("#edited")).to_have_js_property("complete", True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""PNG: the static SVG rasterised by a headless Chromium or Chrome, if one is installed.

Python has no SVG rasteriser of its own, and drawing text well needs a real font engine: a browser is
the one most machines already have. It is looked for at `GRAFO_CHROMIUM`, then by the usual names on
PATH, then where macOS and Windows install Chrome. Without one, `.save("x.png")` says so and what to
do; `.save("x.svg")` and `.save("x.html")` never need it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
_KNOWN_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)
_MAX_SIDE = 8000  # pixels, as the page's own PNG download
_MIN_WIDTH = 1920  # a slide


class PngUnavailable(RuntimeError):
    """No browser to rasterise with."""


def find_chromium() -> str | None:
    configured = os.environ.get("GRAFO_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in _KNOWN_PATHS if Path(path).exists()), None)


def svg_to_png(svg: str, width: float, height: float, timeout_s: float = 120.0) -> bytes:
    """PNG bytes of an SVG document `width` x `height` CSS pixels, at least 1920 px wide (at most 8000)."""
    browser = find_chromium()
    if browser is None:
        raise PngUnavailable("saving a PNG needs Chromium or Chrome (none found; set GRAFO_CHROMIUM to its path, "
                             "or install it, e.g. `apt-get install chromium`); .save('x.svg') and "
                             ".save('x.html') work without one")
    scale = min(max(2.0, _MIN_WIDTH / width), _MAX_SIDE / max(width, height))
    with tempfile.TemporaryDirectory(prefix="grafo-png-") as folder:
        page, out = Path(folder) / "graph.svg", Path(folder) / "graph.png"
        page.write_text(svg, encoding="utf-8")
        command = [browser, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={Path(folder) / 'profile'}", f"--screenshot={out}",
                   f"--window-size={int(round(width))},{int(round(height))}",
                   f"--force-device-scale-factor={scale:.4f}", page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to start as root otherwise
        done = subprocess.run(command, capture_output=True, timeout=timeout_s)
        if not out.exists():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PngUnavailable(f"{browser} did not write the PNG (exit {done.returncode}): {' '.join(tail)}")
        return out.read_bytes()

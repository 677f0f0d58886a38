"""Copy screenshots the browser tests took (test-artifacts/screenshots/) into docs/images/ as small palette PNGs.

    python tests/doc_images.py NAME[:HEIGHT] ...     (make docs-images)

HEIGHT keeps only the top of a whole-page screenshot, that many pixels high.
"""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def copy(spec: str) -> None:
    name, _, height = spec.partition(":")
    image = Image.open(ROOT / "test-artifacts" / "screenshots" / f"{name}.png")
    if height:
        image = image.crop((0, 0, image.width, min(image.height, int(height))))
    image.convert("RGB").quantize(64).save(ROOT / "docs" / "images" / f"{name}.png", optimize=True)


if __name__ == "__main__":
    for spec in sys.argv[1:]:
        copy(spec)

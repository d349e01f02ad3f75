"""How long `sdg16 forms build` takes: a cold build (pyxform + ODK Validate's JVM), a cold build without
validation, and a rebuild with nothing changed (served from the content-hash stamp).

Run: python benchmarks/forms_build.py [repeats]     (prints seconds; builds into a temporary folder)
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from forms.build import build_all


def seconds(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(repeats: int = 3) -> None:
    def cold(validate: bool):
        with tempfile.TemporaryDirectory() as out:
            build_all(out_dir=Path(out), validate=validate)

    with tempfile.TemporaryDirectory() as out:
        build_all(out_dir=Path(out), validate=True)
        cached = seconds(lambda: build_all(out_dir=Path(out), validate=True), repeats * 10)

    for label, times in [
        ("cold build + ODK Validate", seconds(lambda: cold(True), repeats)),
        ("cold build, no validation", seconds(lambda: cold(False), repeats)),
        ("unchanged rebuild (cached)", cached),
    ]:
        print(f"{label:30s} median {statistics.median(times):8.4f} s   max {max(times):8.4f} s   (n={len(times)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

"""Parse time of deeply nested and flat scripts: linear in the script's size.

Prints, for each shape, the seconds to parse a script of N and of 4N lines and their ratio (about 4
when the parse is linear; the deep shapes were quadratic: 16). A shape nested deeper than
script.flow.MAX_NESTING fails with an error; its time to fail is printed too.

    python bench/parse_scaling.py [--lines N]
"""

from __future__ import annotations

import argparse
import time

from pytest_usacloud_sandbox.script.flow import MAX_NESTING
from pytest_usacloud_sandbox.script.parse import ScriptError, parse_script

SHAPES = {
    "flat": lambda n: "usacloud server list -o json --zone is1a\n" * (2 * n),
    "if blocks": lambda n: "if true; then\n  usacloud server list\nfi\n" * (n // 2),
    "nested if (bounded)": lambda n: (
        ("if true; then\n" * MAX_NESTING + "usacloud a\n" + "fi\n" * MAX_NESTING) * max(1, n // (2 * MAX_NESTING))
    ),
    "functions and calls": lambda n: "".join(f"f{i}() {{ g{i}; }}\nf{i}\n" for i in range(n)),
}


def seconds(text: str) -> float:
    start = time.perf_counter()
    try:
        parse_script(text)
    except ScriptError:
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20000)
    n = parser.parse_args().lines
    for name, make in SHAPES.items():
        small, large = make(n), make(4 * n)
        a, b = seconds(small), seconds(large)
        print(
            f"{name:22} {len(small) / 1e6:5.2f} MB {a:6.3f}s  {len(large) / 1e6:5.2f} MB {b:6.3f}s  ratio {b / a:4.1f}"
        )
    too_deep = "if true; then\n" * (1024 * 1024 // 14)
    print(f"{'1 MiB nested too deep':22} fails in {seconds(too_deep):.3f}s")


if __name__ == "__main__":
    main()

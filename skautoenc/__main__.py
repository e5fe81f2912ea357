"""Command line: ``skautoenc demo`` (or ``python -m skautoenc demo``)."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="skautoenc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit every estimator on scikit-learn's digits and compare with PCA"
    )
    demo.add_argument("--output", default="demo_output", help="folder for the figure and JSON")
    demo.add_argument("--n-components", type=int, default=16, help="code size (default 16)")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(args.output, n_components=args.n_components, random_state=args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())

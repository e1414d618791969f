"""Prints what the run computed; fails when asked to, to show a failing node."""

import argparse
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", required=True)
    parser.add_argument("--fail", default="no")
    args = parser.parse_args()
    if args.fail == "yes":
        print("the report was asked to fail", file=sys.stderr)
        sys.exit(3)
    print(f"report: {args.summary}")


if __name__ == "__main__":
    main()

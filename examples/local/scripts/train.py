"""A stand-in for training: fits the mean of the data on as many Ray workers as it was sized for."""

import argparse

import ray

from rwf_output import write


@ray.remote
def partial_sum(worker: int, workers: int, rows: int) -> float:
    return float(sum(range(worker, rows, workers)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    ray.init()
    total = sum(ray.get([partial_sum.remote(w, args.workers, args.rows) for w in range(args.workers)]))
    mean = total / args.rows
    print(f"{args.model}: mean {mean} over {args.rows} rows on {args.workers} workers")
    write("result", mean)


if __name__ == "__main__":
    main()

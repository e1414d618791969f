"""Counts the rows of a generated data set with a Ray map; writes the count as the output."""

import argparse

import ray

from rwf_output import write


@ray.remote
def rows_in_shard(shard: int, rows_per_shard: int) -> int:
    return len([r for r in range(rows_per_shard) if (r + shard) % 1 == 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--rows-per-shard", type=int, required=True)
    args = parser.parse_args()
    ray.init()
    counts = ray.get([rows_in_shard.remote(s, args.rows_per_shard) for s in range(args.shards)])
    total = sum(counts)
    print(f"{args.shards} shards, {total} rows")
    write("result", total)


if __name__ == "__main__":
    main()

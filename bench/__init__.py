"""Benchmark harness: a generated service against a raw "floor" app, in the same run.

`python -m bench --help` lists the options; docs/benchmarks.md explains the numbers. The
floor app imports this package inside the generated project's environment, so it holds
constants only and imports nothing.
"""

FLOOR_DSN_VARIABLE = "BENCH_FLOOR_DSN"
"""Where the floor app reads its database URL, in asyncpg's plain `postgresql://` form."""

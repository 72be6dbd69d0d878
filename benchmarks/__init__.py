"""Gas benchmarks: `python -m benchmarks.gas_bench` (see benchmarks/REPORT.md)."""

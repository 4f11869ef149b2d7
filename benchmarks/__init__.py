"""Benchmarks: ``python -m benchmarks`` runs every ``bench_*.py`` module's ``main(argv)``.

Speed and memory targets live here, not in the unit tests. Each module
prints its figures and its ratios to a reference tool timed in the same run.
"""

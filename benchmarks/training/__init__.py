"""The training benchmark's pieces: see ``benchmarks/bench_training.py``."""

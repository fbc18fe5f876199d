"""The benchmarks' shared pieces: the training workloads, trainers and harness of
``benchmarks/bench_training.py``, and the RNN workload of ``benchmarks/bench_rnn.py`` (``rnn.py``)."""

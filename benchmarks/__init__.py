"""Side-by-side benchmarks of tinygrad_bp against its peers (run ``benchmarks/run.py``).

Every workload is written once per implementation, from the same data and the
same initial weights; ``run.py`` first checks that all implementations give the
same loss (and weights after a step), then times them in interleaved rounds.
"""

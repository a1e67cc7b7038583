"""Development tools: the benchmark (`posfleet bench`, `settlement_bench`) and the demo data (`posfleet demo`).

They stand on every app, so they live above the apps rather than in `core`, which the apps stand on.
"""

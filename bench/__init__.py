"""Benchmarks: Vistter against plain ffmpeg doing the same work, measured in one run.

Not part of the installed package; run the scripts from the repository root (see
``bench/README.md``).
"""

"""`make bench`: the floor under load, beside the stack's own ceiling, with a correctness check at the end.

Run with `python -m bench`; results go to bench/RESULTS.md. See bench/__main__.py for the sections.
"""

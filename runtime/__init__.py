"""The server runtime: settings, background training jobs (a local process pool, or Ray tasks behind one job table
for every replica), training processes and the checkpoint folder.

No Streamlit here (tests/test_core_pure.py checks it): lab/ is the Streamlit shell and builds on this package.
"""

"""The server runtime: settings, background training jobs, training processes and the checkpoint folder.

No Streamlit here (tests/test_core_pure.py checks it): lab/ is the Streamlit shell and builds on this package.
"""

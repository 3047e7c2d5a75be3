"""The imperative shell: Streamlit glue, caches and background jobs. Pages import from here and from core."""

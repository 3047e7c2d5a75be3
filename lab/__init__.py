"""The Streamlit shell: translations in the UI, every cache (the job manager among them), shared widgets. Pages
import from here, from core and from runtime."""

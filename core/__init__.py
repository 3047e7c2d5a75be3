"""Pure, typed computations behind every number LeNet Lab shows. No Streamlit here."""

"""The yardstick for the server-CPU benchmark (bench/run.py, server_cpu): the smallest Streamlit page that does what a
LeNet Lab page does on a slider move, one slider and one 28x28 Plotly heatmap, written the plain way."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

shift = st.slider("shift", 0, 27, 0)
z = np.roll(np.random.default_rng(0).random((28, 28)), shift, axis=1)  # (28, 28)
st.plotly_chart(go.Figure(go.Heatmap(z=z)))

"""The one figure path: presenter scaling reaches every font, and the unvalidated wrapper keeps the dict as it is."""
import plotly.graph_objects as go

from lab.figures import BASE_FONT, as_dict, scaled


def heatmap_figure() -> dict:
    return {"data": [{"type": "heatmap", "z": [[1, 2], [3, 4]], "text": [["1", "2"], ["3", "4"]],
                      "texttemplate": "%{text}", "textfont": {"size": 11}}],
            "layout": {"title": {"text": "t", "font": {"size": 14}}, "height": 300,
                       "xaxis": {"title": {"text": "x"}}, "yaxis2": {"tickfont": {"size": 10}},
                       "annotations": [{"text": "a"}], "legend": {}}}


def test_scaled_grows_every_font_and_keeps_the_original():
    fig = heatmap_figure()
    big = scaled(fig, 2.0)
    assert big["layout"]["font"]["size"] == 2 * BASE_FONT  # inherited text (ticks, axis titles)
    assert big["layout"]["title"]["font"]["size"] == 28
    assert big["layout"]["yaxis2"]["tickfont"]["size"] == 20
    assert big["data"][0]["textfont"]["size"] == 22  # the numbers inside heatmap cells
    assert big["layout"]["height"] > 300
    assert fig["data"][0]["textfont"]["size"] == 11 and "font" not in fig["layout"]  # the input is untouched


def test_unvalidated_figure_round_trips_the_dict():
    fig = heatmap_figure()
    wrapped = go.Figure(fig, _validate=False).to_dict()
    assert wrapped["data"][0]["z"] == [[1, 2], [3, 4]]
    assert as_dict(fig) is fig

"""analysis.site.capture: the data behind a figure, read back from the plotted points."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.site import capture  # noqa: E402


def test_figure_data_reads_back_the_plotted_points():
    fig, (left, right) = plt.subplots(1, 2)
    x = np.array([1.0, 2.0, 4.0])
    left.plot(x, 3 * x, label="3x")
    left.set_title("lines")
    right.scatter([5.0, 6.0], [7.0, 8.0], label="points")
    right.bar([1, 2], [10.0, 20.0])
    data = capture.figure_data(fig)
    plt.close(fig)
    line = data[data["series"] == "3x"]
    assert list(line["panel"].unique()) == ["lines"]
    assert np.allclose(line["x"].astype(float), x) and np.allclose(line["y"].astype(float), 3 * x)
    scatter = data[data["series"] == "points"]
    assert np.allclose(scatter[["x", "y"]].to_numpy(float), [[5, 7], [6, 8]])
    assert sorted(data.loc[data["series"] == "bar", "y"].astype(float)) == [10.0, 20.0]

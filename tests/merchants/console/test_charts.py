"""The report's bar chart geometry (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merchants.console.charts import BOTTOM, LEFT, TOP, bar_chart, nice_ceiling


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 4),
        (4, 4),
        (5, 5),
        (6, 10),
        (11, 20),
        (21, 40),
        (41, 50),
        (51, 100),
    ],
)
def test_the_axis_ends_at_a_round_number(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_bars_stand_on_the_axis_and_the_tallest_reaches_the_ceiling() -> None:
    chart = bar_chart(["1", "2"], [[4, 0], [2, 1]], width=200, height=100)
    plot_height = 100 - TOP - BOTTOM
    assert [(b.value, b.series, b.label) for b in chart.bars] == [
        (4, 0, "1"),
        (2, 1, "1"),
        (0, 0, "2"),
        (1, 1, "2"),
    ]
    assert chart.bars[0].height == plot_height
    assert chart.bars[1].height == plot_height / 2
    assert all(b.y + b.height == pytest.approx(chart.plot_bottom) for b in chart.bars)
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert chart.bars[0].x == pytest.approx(LEFT + (200 - LEFT - 8) / 2 * 0.1)


def test_every_series_has_one_value_per_category() -> None:
    with pytest.raises(ValueError, match="one value per category"):
        bar_chart(["1", "2"], [[1]])


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=31))
def test_no_bar_leaves_the_plot(values: list[int]) -> None:
    chart = bar_chart([str(n) for n in range(len(values))], [values, values[::-1]])
    for bar in chart.bars:
        assert chart.top - 0.01 <= bar.y <= chart.plot_bottom + 0.01
        assert chart.plot_left <= bar.x
        assert bar.x + bar.width <= chart.plot_right + 0.01

"""The first screen's table as a pandas Styler: numbers underneath (so columns sort by value), the text
of each cell on top (``0.971 ±0.015``), the best value per metric and new rows coloured."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd
from pandas.io.formats.style import Styler

from spotfake.leaderboard.views import BEST, TIED

BEST_CELL = "background-color: rgba(44, 160, 44, 0.16)"
TIED_CELL = "background-color: rgba(44, 160, 44, 0.08)"
NEW_ROW = "background-color: rgba(255, 193, 7, 0.28)"


def _show(text: str) -> object:
    return lambda _value: text


def _set_texts(styler: Styler, text: pd.DataFrame) -> None:
    """Cell ``(i, j)`` shows ``text.iat[i, j]``. Pandas keeps one display function per cell; filling that
    table directly is linear, where one ``Styler.format`` call per cell takes milliseconds each."""
    funcs = getattr(styler, "_display_funcs", None)
    for j in range(text.shape[1]):
        for i in range(text.shape[0]):
            shown = _show(str(text.iat[i, j]))
            if isinstance(funcs, dict):
                funcs[(i, j)] = shown
            else:  # a pandas without the per-cell table: the public (slow) way
                styler.format(shown, subset=pd.IndexSlice[[text.index[i]], [text.columns[j]]])


def styled_board(
    numbers: pd.DataFrame, text: pd.DataFrame, metric_columns: Sequence[str], new_keys: Collection[str] = ()
) -> Styler:
    """A Styler over ``numbers`` that shows ``text``; the best value of each metric column, the tied marks
    and rows whose key is in ``new_keys`` get a background colour."""
    shown = numbers.reset_index(drop=True)
    styler = shown.style
    _set_texts(styler, text.reset_index(drop=True))
    keys = list(numbers.index)

    def colours(row: pd.Series) -> list[str]:
        out = [NEW_ROW if keys[int(str(row.name))] in new_keys else "" for _ in row]
        if "vs best" in row.index:
            at = list(row.index).index("vs best")
            mark = str(row["vs best"]).split(" (")[0]
            out[at] = {BEST: BEST_CELL, TIED: TIED_CELL}.get(mark, out[at])
        return out

    styler.apply(colours, axis=1)
    ranked = shown["Rank"].notna() if "Rank" in shown else shown.index == shown.index
    for column in metric_columns:
        values = shown.loc[ranked, column] if ranked.any() else shown[column]  # reported rows are not ranked
        if values.notna().any():
            best = values.max() if _best_is_max(numbers, column) else values.min()
            styler.map(lambda v, b=best: BEST_CELL if v == b else "", subset=[column])
    return styler


def _best_is_max(numbers: pd.DataFrame, column: str) -> bool:
    """Direction of a metric column, stored by :func:`leaderboard.views.board_table` in ``attrs``."""
    return bool(numbers.attrs.get("higher_is_better", {}).get(column, True))

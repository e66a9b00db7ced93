"""How a ranking of candidate pictures is shown, the same in the terminal and on the page.

A tie is shown as a tie: when the model gives every picture the same
prediction (the account's trend), or the library says the order is a tie
(``table.attrs["tie"]``), every picture gets rank 1 and none is marked the
best. Predictions are shown in whole likes in both places, and an actual
count is said to be inside, below or above its interval.
"""

import re

import numpy as np

__all__ = ["actual_verdict", "is_tie", "shown_ranks", "skill_line", "whole"]


def whole(value):
    """A like count as the terminal and the page both show it: whole likes, or ``n/a``.

    Examples
    --------
    >>> whole(152.7), whole(float("nan"))
    ('153', 'n/a')
    """
    return f"{value:.0f}" if value is not None and np.isfinite(value) else "n/a"


def is_tie(table):
    """Is the order of the pictures a tie? ``attrs["tie"]`` where the library says so, else equal predictions.

    One picture has no order, so it is never a tie.

    Examples
    --------
    >>> import pandas as pd
    >>> tied, apart = pd.DataFrame({"predicted": [120.0, 120.0]}), pd.DataFrame({"predicted": [121.0, 120.0]})
    >>> is_tie(tied), is_tie(apart)
    (True, False)
    """
    if len(table) < 2:
        return False
    if "tie" in table.attrs:
        return bool(table.attrs["tie"])
    predicted = table["predicted"].to_numpy(dtype=float)
    return bool(np.ptp(predicted) == 0)


def shown_ranks(table):
    """The rank shown for each row: 1, 2, 3... with equal predictions sharing the better rank.

    Examples
    --------
    >>> import pandas as pd
    >>> shown_ranks(pd.DataFrame({"predicted": [131.0, 97.5, 97.5]}))
    ['1', '2', '2']
    """
    if is_tie(table):
        return ["1"] * len(table)
    ranks = table["predicted"].rank(method="min", ascending=False).to_numpy()
    return [str(int(r)) for r in ranks]


def skill_line(table):
    """The table's skill line; with one picture, without what it says of the pictures' order.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"predicted": [90.0]})
    >>> table.attrs["skill"] = "The model is the trend: their order is a tie. No picture model beat it."
    >>> skill_line(table)
    'The model is the trend. No picture model beat it.'
    """
    skill = str(table.attrs.get("skill", ""))
    if len(table) == 1:
        # a clause about the order of several pictures, from its colon or comma to its full stop
        skill = re.sub(r"[:;,] [^.:;]*\b(order|tie|guess)\b[^.]*\.", ".", skill)
    return skill


def actual_verdict(actual, low, high):
    """``"inside"``, ``"below"`` or ``"above"`` the interval ``[low, high]``; None without one.

    Examples
    --------
    >>> actual_verdict(96, 108, 197), actual_verdict(150, 108, 197)
    ('below', 'inside')
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return "below" if actual < low else "above" if actual > high else "inside"

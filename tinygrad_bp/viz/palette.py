"""The one colour language of every picture and page: classes, and the signs of weights.

Two pairs of hues that never mean anything else: a point of class 0 is orange and
one of class 1 purple (plots, shading of the network's output, the watch page);
a positive weight is blue and a negative one red (network diagrams, the watch
page's edges and units). Matplotlib reads the constants here; the watch pages read
them as CSS variables (``css_variables``), which their script turns into colours,
so there is no copy of them in JavaScript.
"""

from __future__ import annotations

__all__ = ["CLASS0", "CLASS1", "NEGATIVE", "POSITIVE", "css_variables"]

CLASS0 = "#e08214"  # orange: a point whose target is 0, an output below 0.5
CLASS1 = "#5e3c99"  # purple: a point whose target is 1, an output above 0.5
POSITIVE = "#2166ac"  # blue: a weight (or a unit's value) above 0
NEGATIVE = "#d6604d"  # red: a weight below 0


def css_variables() -> str:
    """The palette as the CSS custom properties the watch pages use.

    >>> css_variables()
    ':root { --class0: #e08214; --class1: #5e3c99; --positive: #2166ac; --negative: #d6604d; }'
    """
    pairs = (("class0", CLASS0), ("class1", CLASS1), ("positive", POSITIVE), ("negative", NEGATIVE))
    return ":root { " + " ".join(f"--{name}: {colour};" for name, colour in pairs) + " }"

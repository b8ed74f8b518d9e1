"""The figures the tutorial prints for its worked example, with the drift its rounding causes.

The tutorial rounds every intermediate: it truncates h2 = .7595 to .759 and rounds the
output's net input to 1.54 (o = .824; exactly .8230), then feeds those into the later
figures. So each printed figure may differ from the exact value by the amount given
here, and by no more. Names: h = hidden outputs, o = output, w<i>_<unit> = new weights.
"""

# name: (printed figure, largest difference the tutorial's rounding explains)
TUTORIAL_FIGURES = {
    "h1": (0.777, 5e-4),  # exact .77730
    "h2": (0.759, 1e-3),  # exact .75951, truncated
    "o": (0.824, 1.5e-3),  # exact .82303
    "J": (0.0155, 2e-4),  # exact .01566
    "delta_out": (0.0255, 5e-4),  # exact .02578
    "delta_h1": (0.00132, 3e-5),  # exact .001339
    "delta_h2": (0.00187, 3e-5),  # exact .001883
    "w0_out": (1.01275, 2e-4),  # exact 1.012888
    "w1_out": (0.3099, 2e-4),  # exact .310018
    "w2_out": (0.4097, 2e-4),  # exact .409789
    "w0_h1": (1.001, 5e-4),
    "w0_h2": (1.001, 5e-4),
    "w11": (0.251, 5e-4),
    "w12": (0.151, 5e-4),
    "w21": (0.2, 1e-15),
    "w22": (0.1, 1e-15),
}

# The same quantities as rows of tinygrad_bp.explain's table.
EXPLAIN_ROWS = {
    "h1": "o[1][1]",
    "h2": "o[1][2]",
    "o": "o[2][1]",
    "J": "J",
    "delta_out": "delta[2][1]",
    "delta_h1": "delta[1][1]",
    "delta_h2": "delta[1][2]",
    "w0_out": "new w[2][0,1]",
    "w1_out": "new w[2][1,1]",
    "w2_out": "new w[2][2,1]",
    "w0_h1": "new w[1][0,1]",
    "w0_h2": "new w[1][0,2]",
    "w11": "new w[1][1,1]",
    "w12": "new w[1][1,2]",
    "w21": "new w[1][2,1]",
    "w22": "new w[1][2,2]",
}

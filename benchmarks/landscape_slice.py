"""How long a 51x51 slice of the XOR error surface takes, batched and one point at a time.

``python benchmarks/landscape_slice.py`` times ``landscape.surface`` on the 2-2-1
sigmoid network and XOR, 2,601 grid points, on both engines: with a
``dataset_loss`` (the grid evaluated in batches, arrays of shape (points, 4, units))
and with a plain ``loss_fn(model)`` closure (the model loaded and called once per
point). The runs are interleaved, each repeated, and the best time of each is
printed with the ratio to the batched scalar-model slice. It also checks that all
four give the same grid (to 1e-12).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from tinygrad_bp import data
from tinygrad_bp.landscape import dataset_loss, surface
from tinygrad_bp.losses import half_sse
from tinygrad_bp.nn import MLP, get_weights, set_weights, tensor_mlp

REPEATS = 5
STEPS = 51


def cases() -> dict[str, Callable[[], np.ndarray]]:
    X, y = data.xor()
    scalar = MLP(2, [2, 1], rng=0)
    tensor = tensor_mlp([2, 2, 1])
    set_weights(tensor, get_weights(scalar))
    batched = dataset_loss(X, y)

    def scalar_closure(model: MLP) -> object:
        return half_sse([model(list(x)) for x in X], y)

    def tensor_closure(model: object) -> object:
        return half_sse(model(X), y[:, None])  # type: ignore[operator]

    return {
        "scalar MLP, dataset_loss (batched)": lambda: surface(scalar, batched, steps=STEPS).loss,
        "tensor net, dataset_loss (batched)": lambda: surface(tensor, batched, steps=STEPS).loss,
        "scalar MLP, closure (per point)": lambda: (
            surface(scalar, scalar_closure, steps=STEPS).loss
        ),
        "tensor net, closure (per point)": lambda: (
            surface(tensor, tensor_closure, steps=STEPS).loss
        ),
    }


def main() -> None:
    runs = cases()
    best = dict.fromkeys(runs, float("inf"))
    grids = {}
    for _ in range(REPEATS):
        for name, run in runs.items():  # interleaved: load drifts hit every case alike
            start = time.perf_counter()
            grids[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    reference = next(iter(grids.values()))
    worst = max(float(np.max(np.abs(grid - reference))) for grid in grids.values())
    assert worst < 1e-12, f"the slices disagree by {worst}"
    first = next(iter(best.values()))
    print(f"51x51 slice of XOR, 2-2-1 sigmoid net, best of {REPEATS} (all agree to {worst:.0e})")
    for name, seconds in best.items():
        print(f"  {name:38} {seconds * 1000:8.1f} ms   x{seconds / first:5.2f}")


if __name__ == "__main__":
    main()

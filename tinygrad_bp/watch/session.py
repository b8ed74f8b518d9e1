"""One training session of the watch page: a scalar MLP, its data, and frames of its state.

A session owns a real tinygrad_bp network, ``nn.MLP(2, [*hidden, 1], activation,
output_activation="sigmoid", rng=seed)``, and a toy data set,
``data.load(dataset, n=POINTS, rng=seed)``. It trains it with ``train.fit``'s own step
on the derivation's loss J = 1/2 sum (y - o)^2 by plain gradient descent, online (one
update per example, the derivation's procedure) or in batch (one update per epoch), so
the same seed gives the same run as ``fit`` called in Python with the same arguments.
Online, a pause takes effect after the example being trained, mid-epoch.

Between steps it can describe itself as a *frame*: a plain dict (JSON-ready) with the
epoch, the loss, the weights in the derivation's ``(n_in + 1, n_out)`` form, the
network's output over a grid of the plane (the decision boundary), the loss curve,
and every unit's activation and delta for one selected example, with each weight's
update. Those numbers are ``explain.explain``'s table (the autograd column and the
delta-rule column, tanh and relu hidden units with their own g'(z) in place of
o(1 - o)), so the page shows what ``tinygrad-bp explain`` prints; the page only
draws them.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .. import data, explain
from ..graph import no_grad
from ..landscape import dataset_loss, surface
from ..losses import half_sse
from ..nn import ACTIVATIONS as ACTIVATION_TABLE
from ..nn import MLP, get_activation, get_weights, set_weights, tensor_mlp
from ..optim import SGD
from ..train.steps import Steps
from ..validate import is_integer, is_real

# The data sets of the page (2-D inputs, 0/1 labels) and what each starts with.
DATASETS = ("xor", "moons", "circles", "spirals")
DEFAULT_HIDDEN = {"xor": (2,), "moons": (8,), "circles": (8,), "spirals": (16, 16)}
DEFAULT_LR = {"xor": 2.0, "moons": 0.5, "circles": 0.5, "spirals": 0.3}
# The hidden units' activations; the output unit is always sigmoid, so its delta is
# always the derivation's o(1 - o)(y - o).
ACTIVATIONS = tuple(name for name, row in ACTIVATION_TABLE.items() if row.module is not None)

POINTS = 100  # points of the random data sets (XOR is its 4-row truth table)
MAX_LAYERS = 4  # hidden layers
MAX_WIDTH = 16  # units per hidden layer
MAX_LR = 100.0
GRID = 40  # the decision boundary is the output at GRID x GRID points of the plane
LANDSCAPE_GRID = 25  # the error surface is J at LANDSCAPE_GRID x LANDSCAPE_GRID points
# While training plays, the surface is redrawn at most this often (seconds): at every frame
# (30 a second) it would starve the trainer.
LANDSCAPE_EVERY = 0.5
CURVE_POINTS = 500  # the loss curve keeps at most this many (epoch, loss) points
WeightsKey = tuple[int, int, int]  # (run, epoch, position): which weights a surface is of
YIELD = 0.001  # seconds the trainer sleeps between epochs, outside the lock


@dataclass(frozen=True)
class Config:
    """What a session trains: the data set, the network and the descent.

    Attributes:
        dataset: One of ``DATASETS``.
        hidden: The hidden layers' widths (at most MAX_LAYERS, each 1..MAX_WIDTH).
        activation: The hidden units' activation, one of ``ACTIVATIONS``.
        lr: The learning rate, 0 < lr <= MAX_LR.
        seed: The seed of the data and of the initial weights.
        online: True for one update per example, False for one per epoch (batch).
    """

    dataset: str = "xor"
    hidden: tuple[int, ...] = DEFAULT_HIDDEN["xor"]
    activation: str = "sigmoid"
    lr: float = DEFAULT_LR["xor"]
    seed: int = 0
    online: bool = True


def make_config(**fields: Any) -> Config:
    """A checked ``Config``; hidden and lr default to the data set's own when not given.

    Raises:
        ValueError: naming the field, the value given and the limit.

    Example:
        >>> make_config(dataset="moons", seed=3)
        Config(dataset='moons', hidden=(8,), activation='sigmoid', lr=0.5, seed=3, online=True)
        >>> make_config(hidden=[32])
        Traceback (most recent call last):
        ValueError: hidden: at most 16 units per layer, got 32
    """
    unknown = sorted(set(fields) - set(Config.__dataclass_fields__))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
    dataset = fields.get("dataset", "xor")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    hidden = fields.get("hidden")
    hidden = _hidden(DEFAULT_HIDDEN[dataset] if hidden is None else hidden)
    activation = fields.get("activation", "sigmoid")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    lr = fields.get("lr")
    lr = DEFAULT_LR[dataset] if lr is None else lr
    if not is_real(lr) or not 0 < lr <= MAX_LR:
        raise ValueError(f"lr must be a number in (0, {MAX_LR:g}], got {lr!r}")
    seed = fields.get("seed", 0)
    if not is_integer(seed) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    online = fields.get("online", True)
    if not isinstance(online, bool):
        raise ValueError(f"online must be true or false, got {online!r}")
    return Config(dataset, hidden, activation, float(lr), int(seed), online)


def _hidden(widths: object) -> tuple[int, ...]:
    """The hidden widths as a tuple, or ValueError naming the limit broken."""
    if not isinstance(widths, (list, tuple)) or not all(is_integer(w) for w in widths):
        raise ValueError(f"hidden must be a list of layer widths, got {widths!r:.60}")
    if len(widths) > MAX_LAYERS:
        raise ValueError(f"hidden: at most {MAX_LAYERS} hidden layers, got {len(widths)}")
    for width in widths:
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"hidden: at most {MAX_WIDTH} units per layer, got {width}")
    return tuple(int(width) for width in widths)


class Session:
    """A network training on a data set, stepped by the page or by a recorder.

    Every method is safe to call from any thread. ``start()`` runs a background
    thread that trains epoch after epoch while ``playing`` and computes the error
    surfaces of the frames; ``wait_for_change`` lets a reader sleep until something
    changed.

    Example:
        >>> session = Session(make_config(dataset="xor", seed=1))
        >>> session.step_epoch()
        >>> frame = session.frame()
        >>> frame["epoch"], [len(w) for w in frame["weights"]]
        (1, [3, 3])
    """

    def __init__(self, config: Config) -> None:
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.closed = False
        self.playing = False
        self.version = 0
        self._run = 0
        self._frame: dict[str, Any] | None = None
        self._encoded: tuple[int, bytes] | None = None  # frame_json's (version, bytes)
        self.config = config
        self.reset()

    # -- the state ------------------------------------------------------------------

    def reset(self, config: Config | None = None) -> None:
        """Start again from epoch 0 with fresh data and weights from the seed."""
        with self._changed:
            if config is not None:
                self.config = config
            self.X, self.y = data.load(self.config.dataset, n=POINTS, rng=self.config.seed)
            self.model = _scalar_mlp(self.config)
            self._step = Steps(self.model, half_sse, scalar=True, compile=True)  # fit's step
            self._descent = SGD(self.model.parameters(), self.config.lr)
            self._picture = tensor_mlp(
                [2, *self.config.hidden, 1], self.config.activation, "sigmoid"
            )
            self.epoch = 0
            self._run += 1  # a new run: a surface computed for the last one is not this one's
            # the last surface computed: (when, its weights' (run, epoch, position), panel)
            self._landscape_made: tuple[float, WeightsKey, dict[str, Any]] | None = None
            self._surface_model = _scalar_mlp(self.config)  # the trainer's copy, for surfaces
            self.position = 0  # examples done in the current epoch (online steps)
            self._partial = 0.0  # their losses so far
            self.loss: float | None = None  # the last complete epoch's J
            self.curve: list[tuple[int, float]] = []
            # the weights at epoch 0 and at each epoch of the curve: the path so far
            self.path: list[list[np.ndarray]] = [get_weights(self.model)]
            self._loss_fn = dataset_loss(self.X, self.y)
            self._stride = 1
            self.selected = 0
            self._extent = _extent(self.X)
            self._touch()

    def configure(self, /, **fields: Any) -> None:
        """Change settings: lr and online take effect at the next step; the data set,
        hidden widths, activation or seed start a new run (a reset).

        ``self`` is positional-only, so that a field named "self" is one more
        unknown setting (ValueError), not a TypeError.
        """
        with self._changed:
            current = asdict(self.config)
            if "dataset" in fields and fields["dataset"] != current["dataset"]:
                current.pop("hidden")  # a new data set brings its own defaults
                current.pop("lr")
            current.update(fields)
            config = make_config(**current)
            if replace(config, lr=self.config.lr, online=self.config.online) == self.config:
                self.config = config
                self._touch()
            else:
                self.reset(config)

    def select(self, index: int) -> None:
        """Show the units' numbers for example ``index``."""
        if not is_integer(index) or not 0 <= index < len(self.X):
            raise ValueError(f"example must be an index in [0, {len(self.X)}), got {index!r}")
        with self._changed:
            self.selected = index
            self._touch()

    # -- training -------------------------------------------------------------------

    def step_example(self) -> None:
        """One online update on the next example of the epoch (its J adds to the epoch's).

        The example explained becomes the next one, so the frame's Delta w are the
        changes the next ``step_example`` makes.
        """
        with self._changed:
            if not self.config.online:
                raise ValueError("one example at a time is online training: choose online")
            self._example_step()
            self.selected = self.position
            self._touch()

    def step_epoch(self) -> None:
        """Finish the current epoch (or do a whole one): every example once, online or
        as one batch; its loss is the sum of the examples' J measured on the way."""
        with self._changed:
            self._train_epoch(stop=lambda: False)
            self._touch()

    def _train_epoch(self, stop: Callable[[], bool]) -> None:
        """Train to the end of the epoch: online (or to finish an epoch begun online)
        example by example, unless ``stop()`` says so before the next one; in batch, as
        one update."""
        if self.config.online or self.position:
            self._example_step()
            while self.position and not stop():
                self._example_step()
        else:
            self._end_epoch(self._update(slice(None)))

    def _example_step(self) -> None:
        self._partial += self._update(slice(self.position, self.position + 1))
        self.position += 1
        if self.position == len(self.X):
            self._end_epoch(self._partial)

    def _update(self, rows: slice) -> float:
        """One step of gradient descent on these examples, as ``fit`` takes it; their J.

        ``fit`` makes its step (and traces it) at every call: called for each example,
        it spent 25 ms on an example of 0.3 ms, so the session keeps fit's step for the
        run and adds the losses in fit's order, giving fit's numbers to the last bit.
        """
        if self._descent.lr != self.config.lr:
            self._descent = SGD(self.model.parameters(), self.config.lr)
        self._descent.zero_grad()
        loss = self._step(self.X[rows], self.y[rows])
        self._descent.step()
        return loss

    def _end_epoch(self, loss: float) -> None:
        self.epoch += 1
        self.loss = loss
        self.position, self._partial = 0, 0.0
        if self.epoch % self._stride == 0:
            self.curve.append((self.epoch, loss))
            self.path.append(get_weights(self.model))
        if len(self.curve) >= CURVE_POINTS:  # keep it bounded: every other point, twice apart
            self.curve = self.curve[1::2]
            self.path = [self.path[0], *self.path[2::2]]
            self._stride *= 2

    # -- the background trainer -------------------------------------------------------

    def start(self) -> None:
        """Run the trainer thread (a daemon): an epoch after another while playing, and
        the error surface of the weights (see ``_landscape_due``)."""
        self._thread = threading.Thread(target=self._train, name="watch-trainer", daemon=True)
        self._thread.start()

    def play(self) -> None:
        """Train on, epoch after epoch, in the trainer thread."""
        self._set_playing(True)

    def pause(self) -> None:
        """Stop after the example being trained (online) or the epoch (batch).

        The flag is lowered before the lock is taken: the trainer reads it before each
        example, and it takes the lock again as soon as it let it go, so a pause that
        waited for the lock could wait through many epochs on a busy machine.
        """
        self.playing = False
        self._set_playing(False)

    def _set_playing(self, playing: bool) -> None:
        with self._changed:
            self.playing = playing
            made = self._frame
            if made is not None and made["version"] == self.version and made["playing"] == playing:
                return  # made since the trainer saw the flag, this state's frame says so already
            self._touch()

    def close(self) -> None:
        """Stop the trainer thread and wake every reader."""
        with self._changed:
            self.closed = True
            self.playing = False
            self._touch()
        if self._thread is not None:
            self._thread.join()

    def _train(self) -> None:
        while True:
            with self._changed:
                while not (self.playing or self.closed or self._landscape_due()):
                    self._changed.wait()
                if self.closed:
                    return
                if self.playing:  # online, Pause stops it after the example being trained
                    self._train_epoch(stop=lambda: not self.playing)
                    self._touch()
                job = self._landscape_job() if self._landscape_due() else None
            if job is not None:
                self._store_landscape(*job)
            # Let the page's requests in: a lock let go and taken again at once by the
            # thread holding the GIL is almost never won by a waiting one.
            time.sleep(YIELD)

    # -- the error surface, computed by the trainer thread ------------------------------
    #
    # A surface takes 30-200 ms (and several times that on a busy machine). Made under the
    # lock, in the frame that answers Pause, it kept the page waiting for that answer, and
    # training waiting for the lock; so while the trainer thread runs, it computes them
    # between epochs, outside the lock, on a copy of the weights, and a frame carries the
    # newest one made (saying for which epoch). Paused, the trainer makes the surface of
    # the weights as they are once the page has been sent them, and then a new frame.

    def _weights_key(self) -> WeightsKey:
        """What names the weights: a step moves the position or the epoch, a reset the run."""
        return (self._run, self.epoch, self.position)

    def _landscape_due(self) -> bool:
        made = self._landscape_made
        if made is None or made[1] == self._weights_key():
            return False  # the first surface of a run is made by the frame that shows it
        if self.playing:
            return time.monotonic() - made[0] >= LANDSCAPE_EVERY
        # Paused: once the state has been encoded for the page, so that the answer to
        # Pause is not kept waiting for the interpreter while a surface is computed.
        return self._encoded is not None and self._encoded[0] == self.version

    def _landscape_job(self) -> tuple[WeightsKey, Callable[[], dict[str, Any]]]:
        """The surface of the weights as they are now, to be computed outside the lock."""
        key, weights = self._weights_key(), get_weights(self.model)
        set_weights(self._surface_model, weights)
        path = [*self.path, weights]
        seed = self.config.seed
        return key, functools.partial(
            _landscape, self._surface_model, self._loss_fn, path, seed, key
        )

    def _store_landscape(self, key: WeightsKey, job: Callable[[], dict[str, Any]]) -> None:
        try:
            panel: dict[str, Any] | None = job()
        except ValueError:  # weights gone to nan or inf: no surface through them
            panel = None
        with self._changed:
            made = self._landscape_made
            if key[0] == self._run and made is not None:  # not reset meanwhile
                # Without a new surface the panel keeps the last one, which names its epoch;
                # the time and key are still noted, so the trainer does not try again at once.
                self._landscape_made = (time.monotonic(), key, made[2] if panel is None else panel)
                self._touch()

    def _touch(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Sleep until the state's version differs from ``version`` (or timeout); return it."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version or self.closed, timeout)
            return self.version

    # -- frames ---------------------------------------------------------------------

    def frame_json(self) -> bytes:
        """``frame()`` as JSON, encoded once per state for every reader."""
        frame = self.frame()
        encoded = self._encoded
        if encoded is None or encoded[0] != frame["version"]:
            encoded = (frame["version"], json.dumps(frame).encode())
            with self._changed:
                self._encoded = encoded
                self._changed.notify_all()  # the trainer may wait for it (_landscape_due)
        return encoded[1]

    def frame(self) -> dict[str, Any]:
        """The state as a plain, JSON-ready dict (see the module docstring).

        Made once per state: every reader of the same version gets the same dict
        (so several open pages cost the trainer no more than one); do not change it.
        """
        with self._changed:
            if self._frame is None or self._frame["version"] != self.version:
                self._frame = self._new_frame()
            return self._frame

    def _new_frame(self) -> dict[str, Any]:
        weights = get_weights(self.model)
        set_weights(self._picture, weights)
        predictions = self._predict(self.X)
        return {
            "version": self.version,
            "config": {**asdict(self.config), "hidden": list(self.config.hidden)},
            "playing": self.playing,
            "epoch": self.epoch,
            "position": self.position,
            "loss": self.loss,
            "accuracy": float(np.mean((predictions > 0.5) == (self.y > 0.5))),
            "curve": [list(point) for point in self.curve],
            "weights": [w.tolist() for w in weights],
            "points": np.column_stack([self.X, self.y]).tolist(),
            "extent": list(self._extent),
            "grid": self._boundary(),
            "landscape": self._current_landscape(weights),
            "example": example_numbers(
                weights,
                self.config.activation,
                self.X[self.selected],
                self.y[self.selected],
                self.config.lr,
            )
            | {"index": self.selected},
        }

    def _predict(self, points: np.ndarray) -> np.ndarray:
        with no_grad():
            return self._picture(points).data[:, 0]

    def _boundary(self) -> list[float]:
        """The output at GRID x GRID points, row by row from the top (largest x2) down."""
        x_lo, x_hi, y_lo, y_hi = self._extent
        xs = np.linspace(x_lo, x_hi, GRID)
        ys = np.linspace(y_hi, y_lo, GRID)
        plane = np.array([[x, y] for y in ys for x in xs])
        return np.round(self._predict(plane), 4).tolist()

    def _current_landscape(self, weights: list[np.ndarray]) -> dict[str, Any]:
        """The landscape panel: the newest surface the trainer thread made (see above),
        or, without a trainer thread (a recording), made here for the weights shown."""
        key, made = self._weights_key(), self._landscape_made
        if made is None or (self._thread is None and made[1] != key):
            panel = _landscape(
                self.model, self._loss_fn, [*self.path, weights], self.config.seed, key
            )
            made = self._landscape_made = (time.monotonic(), key, panel)
        return made[2]


def _landscape(
    model: MLP,
    loss_fn: Any,
    path: list[list[np.ndarray]],
    seed: int,
    key: WeightsKey,
) -> dict[str, Any]:
    """The landscape panel: J around the model's weights on the plane of the path so far
    (its first two principal components; two random filter-normalised directions until the
    path spans a plane), the path projected onto it; rows from the top (largest b) down.
    ``key`` is the (run, epoch, position) of the weights, the path's last point."""
    try:
        slice_ = surface(model, loss_fn, "pca", LANDSCAPE_GRID, path=path)
    except ValueError:  # fewer than 3 points, or all on one line
        slice_ = surface(model, loss_fn, "filter", LANDSCAPE_GRID, path=path, rng=seed)
    return {
        "kind": slice_.kind,
        "labels": list(slice_.labels),
        "extent": [
            float(slice_.a[0]),
            float(slice_.a[-1]),
            float(slice_.b[0]),
            float(slice_.b[-1]),
        ],
        "loss": [float(v) for v in np.round(slice_.loss[::-1].ravel(), 6)],
        "path": np.round(slice_.path, 6).tolist() if slice_.path is not None else [],
        "center": slice_.center_loss,
        "epoch": key[1],
        "position": key[2],
    }


def _scalar_mlp(config: Config) -> MLP:
    """The network of the settings: sigmoid output unit, initial weights from the seed."""
    return MLP(
        2, [*config.hidden, 1], config.activation, output_activation="sigmoid", rng=config.seed
    )


def _extent(X: np.ndarray) -> tuple[float, float, float, float]:
    """The plane shown: the data's bounding box with a margin of a quarter of its size."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = 0.25 * np.maximum(hi - lo, 1e-9)
    low, high = (lo - margin).tolist(), (hi + margin).tolist()
    return (low[0], high[0], low[1], high[1])


# -- one example's numbers ---------------------------------------------------------------


def example_numbers(
    weights: Sequence[np.ndarray], activation: str, x: np.ndarray, y: float, lr: float
) -> dict[str, Any]:
    """Every unit's o and delta and every weight's update for one example, two ways.

    These are the rows of ``explain.explain(weights, x, [y], lr, activation)``: the
    autograd column (delta_j = -dJ/dz_j, Delta w_ij = -lr dJ/dw_ij) and the
    delta-rule column (delta_k = o_k (1 - o_k)(y - o_k), delta_h = g'(z_h) sum_k
    w_hk delta_k, Delta w_ij = lr delta_j x_i), g' from the one activation table.

    Returns:
        A dict with ``x``, ``y``, ``activation``, ``derivative`` (the hidden units'
        g'(z) as the table writes it), ``g`` (each layer's activation), ``note`` (the
        page's words on a hidden activation other than sigmoid), ``z`` and ``o`` (per
        layer, the input first in ``o``), ``slope`` (g'(z) of each hidden unit, per
        hidden layer), ``delta`` and ``delta_autograd`` (per layer above the input),
        ``dw`` and ``dw_autograd`` (per layer, the ``(n_in + 1, n_out)`` matrix of
        Delta w), ``J``.

    Example:
        >>> numbers = example_numbers(explain.WORKED_WEIGHTS, "sigmoid", [1.0, 0.0], 1.0, 0.5)
        >>> round(numbers["delta"][1][0], 5), round(numbers["o"][1][0], 4)
        (0.02578, 0.7773)
    """
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    x = np.asarray(x, dtype=np.float64)
    rows = explain.explain(list(weights), x, np.array([float(y)]), lr, activation).rows
    autograd = {row.name: row.autograd for row in rows}
    rule = {row.name: row.closed_form for row in rows}
    sizes = [len(x)] + [w.shape[1] for w in weights]
    layers = range(1, len(sizes))
    outputs = [x.tolist()] + [_units(rule, "o", layer, sizes) for layer in layers]
    nets = [(w[0] + np.asarray(o) @ w[1:]).tolist() for w, o in zip(weights, outputs)]
    hidden = get_activation(activation)
    return {
        "x": x.tolist(),
        "y": float(y),
        "activation": activation,
        "derivative": hidden.derivative.removeprefix("do/dz = "),
        "g": [activation] * (len(weights) - 1) + ["sigmoid"],
        "note": _note(activation),
        "z": nets,
        "o": outputs,
        "slope": [
            hidden.slope(np.asarray(o), np.asarray(z)).tolist()
            for o, z in zip(outputs[1:-1], nets[:-1])
        ],
        "delta": [_units(rule, "delta", layer, sizes) for layer in layers],
        "delta_autograd": [_units(autograd, "delta", layer, sizes) for layer in layers],
        "dw": [_updates(rule, layer, sizes) for layer in layers],
        "dw_autograd": [_updates(autograd, layer, sizes) for layer in layers],
        "J": rule["J"],
    }


def _note(activation: str) -> str:
    """What the page says under a hidden unit's rule when g is not the derivation's sigmoid."""
    if activation == "sigmoid":
        return ""
    derivative = get_activation(activation).derivative.removeprefix("do/dz = ")
    return (
        f"These hidden units are {activation}, so the rule uses {activation}'s own derivative "
        f"g'(z) = {derivative} where the derivation's sigmoid has o (1 - o); the numbers are "
        f'those of tinygrad_bp.explain.explain(..., activation="{activation}").'
    )


def _units(numbers: Mapping[str, float], kind: str, layer: int, sizes: list[int]) -> list[float]:
    return [numbers[f"{kind}[{layer}][{j}]"] for j in range(1, sizes[layer] + 1)]


def _updates(numbers: Mapping[str, float], layer: int, sizes: list[int]) -> list[list[float]]:
    return [
        [numbers[f"Delta w[{layer}][{i},{j}]"] for j in range(1, sizes[layer] + 1)]
        for i in range(sizes[layer - 1] + 1)
    ]

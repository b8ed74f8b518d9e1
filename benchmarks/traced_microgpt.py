"""microgpt trained on its twenty names with one traced step per name, against microgpt's Value.

    python benchmarks/traced_microgpt.py               # 20 epochs over the 20 names
    python benchmarks/traced_microgpt.py --epochs 3    # quicker
    python benchmarks/traced_microgpt.py --breakdown   # where a trace's time goes
    python benchmarks/traced_microgpt.py --order minimal-first   # one engine after the other

The model and the peer are those of ``benchmarks/microgpt.py``: microgpt's GPT
on scalars, and ``MinimalValue``, microgpt's own design (slots, local-derivative
tuples, a recursive topological sort). Ours traces the step of each name once,
the first time it comes (``tinygrad_bp.trace``: the tracing is timed too), and
replays it from then on. Both train with the same plain gradient step.

First the traced run is checked against our eager engine on a short run: the
same loss at every step, the same weights at the end. Then the two engines train
epoch by epoch, interleaved (the one that goes first alternates), and the CPU
time of each is summed. The ratio above 1 says how many times faster ours is.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this working tree

from benchmarks import microgpt as mg  # noqa: E402 (after the path is set)

LR = 0.05


def sgd(weights: list[Any]) -> None:
    """w <- w - lr dL/dw, then the grads back to 0 (the same update for both engines)."""
    for w in weights:
        w.data -= LR * w.grad
        w.grad = 0.0


def eager_epoch(value_cls: type, params: mg.Params, names: Sequence[str]) -> list[float]:
    """One epoch of eager steps: forward, backward, update, one name at a time."""
    weights = mg.parameters(params)
    losses = []
    for name in names:
        loss = mg.document_loss(value_cls, params, mg.tokens_of(name))
        loss.backward()
        sgd(weights)
        losses.append(loss.data)
    return losses


def traced_epoch(params: mg.Params, names: Sequence[str], steps: dict[str, Any]) -> list[float]:
    """One epoch of traced steps; a name's step is traced the first time the name comes."""
    from tinygrad_bp import Value, trace

    weights = mg.parameters(params)
    losses = []
    for name in names:
        tokens = mg.tokens_of(name)
        if name not in steps:
            steps[name] = trace(lambda t: mg.document_loss(Value, params, t), tokens)
        losses.append(steps[name](tokens))
        sgd(weights)
    return losses


def check(epochs: int = 2, names: Sequence[str] = mg.NAMES[:3]) -> None:
    """The traced run gives the eager run's losses and weights, to the last bit."""
    from tinygrad_bp import Value

    eager, traced = mg.make_params(Value, seed=0), mg.make_params(Value, seed=0)
    steps: dict[str, Any] = {}
    for _ in range(epochs):
        assert traced_epoch(traced, names, steps) == eager_epoch(Value, eager, names)
    assert [w.data for w in mg.parameters(traced)] == [w.data for w in mg.parameters(eager)]


def timed(run: Callable[[], Any]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def compare(epochs: int, order: str = "interleaved") -> dict[str, float]:
    """CPU seconds of each engine's training, interleaved epoch by epoch, and the ratio.

    ``order`` "minimal-first" or "traced-first" runs every epoch of one engine, then of
    the other: on a machine whose speed drifts, a ratio that says less.
    """
    from tinygrad_bp import Value

    check()
    ours = mg.make_params(Value, seed=0)
    minimal = mg.make_params(mg.MinimalValue, seed=0)
    steps: dict[str, Any] = {}
    seconds = {"minimal": 0.0, "traced": 0.0}
    runs = {
        "minimal": lambda: eager_epoch(mg.MinimalValue, minimal, mg.NAMES),
        "traced": lambda: traced_epoch(ours, mg.NAMES, steps),
    }
    if order == "interleaved":
        labels = list(runs)
        turns = [labels[e % 2 :] + labels[: e % 2] for e in range(epochs)]
        sequence = [label for turn in turns for label in turn]
    else:
        first = order.removesuffix("-first")
        labels = sorted(runs, key=lambda label: label != first)  # that engine first
        sequence = [label for label in labels for _ in range(epochs)]
    for label in sequence:
        seconds[label] += timed(runs[label])
    return {**seconds, "ratio": seconds["minimal"] / seconds["traced"]}


def breakdown(names: Sequence[str] = mg.NAMES, repeats: int = 3) -> dict[str, float]:
    """Where a trace's time goes, in CPU seconds summed over ``names`` (best of ``repeats``).

    The phases of ``trace``, run one by one as it runs them: the tracked run of the
    loss (``record``), writing and compiling the step (``write``: for microgpt's steps,
    the tape and the code around it), and the check against the eager engine; then
    one replay and one ``MinimalValue`` step for scale.
    """
    from tinygrad_bp import Value
    from tinygrad_bp import tracing as t
    from tinygrad_bp.graph import collector_paused

    params = mg.make_params(Value, seed=0)
    minimal = mg.make_params(mg.MinimalValue, seed=0)
    best: dict[str, float] = {}
    for _ in range(repeats):
        spent = dict.fromkeys(("record", "write", "check", "replay", "minimal"), 0.0)
        for name in names:
            tokens = mg.tokens_of(name)
            start = time.process_time()
            with collector_paused():  # as trace runs its phases
                recording = t.record(lambda k: mg.document_loss(Value, params, k), (tokens,))
                recorded = time.process_time()
                function, code = t._code(recording, t.tape)
                step = t.Step(function, recording, code, on_tape=True)
                written = time.process_time()
                t._agree_with_eager(step, recording, (tokens,))
                checked = time.process_time()
            step(tokens)
            replayed = time.process_time()
            mg.document_loss(mg.MinimalValue, minimal, tokens).backward()
            done = time.process_time()
            for phase, seconds in zip(
                spent,
                (
                    recorded - start,
                    written - recorded,
                    checked - written,
                    replayed - checked,
                    done - replayed,
                ),
            ):
                spent[phase] += seconds
        best = {k: min(v, best.get(k, v)) for k, v in spent.items()}
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs over the twenty names")
    parser.add_argument(
        "--breakdown", action="store_true", help="where a trace's time goes, phase by phase"
    )
    parser.add_argument(
        "--order",
        choices=("interleaved", "minimal-first", "traced-first"),
        default="interleaved",
        help="epochs of the two engines interleaved (default), or all of one engine first",
    )
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))  # the minimal engine recurses
    if args.breakdown:
        parts = breakdown()
        traced = sum(parts[k] for k in ("record", "write", "check"))
        print(
            f"tracing the {len(mg.NAMES)} names: {traced:.2f} s = "
            + ", ".join(f"{k} {parts[k]:.2f}" for k in ("record", "write", "check"))
            + f"; one replay of each {parts['replay']:.3f} s, one MinimalValue step of each "
            f"{parts['minimal']:.2f} s (a trace costs {traced / parts['minimal']:.1f} of them)"
        )
        return
    r = compare(args.epochs, args.order)
    print(
        f"microgpt, {len(mg.NAMES)} names x {args.epochs} epochs ({args.order}), one traced "
        "step per name "
        f"(tracing included) vs microgpt's Value: {r['ratio']:.2f}x faster (goal 5x); "
        f"{r['traced']:.1f} s against {r['minimal']:.1f} s of CPU time"
    )


if __name__ == "__main__":
    main()

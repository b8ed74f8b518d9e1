"""A microgpt-style training step on scalars: our ``Value`` against a minimal slots-and-tuples one.

    python benchmarks/microgpt.py             # interleaved rounds, about a minute
    python benchmarks/microgpt.py --rounds 3  # quicker, noisier
    python benchmarks/microgpt.py --resident  # memory per node as the machine sees it (Linux)

The model is the one Karpathy's microgpt (2026) trains on names, written here
again from its description and parametrised by the scalar class, so the same code
runs on both engines: token and position embeddings, RMS norm, one layer of
4-head causal self-attention that keeps each position's keys and values, an MLP
with ReLU, a language-model head, a softmax with the largest logit subtracted
(read from ``.data``, as microgpt does) and the mean cross-entropy over one name
(n_embd 16, block 16, 4,192 parameters).

``MinimalValue`` is the peer: microgpt's design (``__slots__``, a tuple of local
derivatives per node, a recursive topological sort, nothing else), written by us.
Both engines first compute the same loss and gradients from the same weights;
then forward and backward are timed in interleaved rounds, and the graph's
memory per node is measured with tracemalloc. Ratios above 1 mean ours is
faster (or smaller).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

N_EMBD, N_HEAD, BLOCK = 16, 4, 16
HEAD_DIM = N_EMBD // N_HEAD
# Twenty names, made in code: the documents of the step (one name per step).
NAMES = (
    "emma olivia ava isabella sophia charlotte mia amelia harper evelyn "
    "liam noah oliver elijah james william benjamin lucas henry theodore"
).split()
CHARS = sorted(set("".join(NAMES)))
BOS = len(CHARS)  # the token that starts and ends every name
VOCAB = len(CHARS) + 1


class MinimalValue:
    """The smallest scalar engine of its kind: data, grad, children, local derivatives."""

    __slots__ = ("data", "grad", "children", "local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()) -> None:
        self.data = data
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads

    def __add__(self, other: Any) -> MinimalValue:
        other = other if isinstance(other, MinimalValue) else MinimalValue(other)
        return MinimalValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> MinimalValue:
        other = other if isinstance(other, MinimalValue) else MinimalValue(other)
        return MinimalValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent: float) -> MinimalValue:
        slope = exponent * self.data ** (exponent - 1)
        return MinimalValue(self.data**exponent, (self,), (slope,))

    def log(self) -> MinimalValue:
        return MinimalValue(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self) -> MinimalValue:
        out = math.exp(self.data)
        return MinimalValue(out, (self,), (out,))

    def relu(self) -> MinimalValue:
        return MinimalValue(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> MinimalValue:
        return self * -1.0

    def __radd__(self, other: Any) -> MinimalValue:
        return self + other

    def __sub__(self, other: Any) -> MinimalValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> MinimalValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> MinimalValue:
        return self * other

    def __truediv__(self, other: Any) -> MinimalValue:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> MinimalValue:
        return other * self**-1

    def topological_order(self) -> list[MinimalValue]:
        order: list[MinimalValue] = []
        visited: set[MinimalValue] = set()

        def visit(node: MinimalValue) -> None:
            if node not in visited:
                visited.add(node)
                for child in node.children:
                    visit(child)
                order.append(node)

        visit(self)
        return order

    def backward(self) -> None:
        order = self.topological_order()
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad


# -- the model, for any scalar class ----------------------------------------------------

Params = dict[str, list[list[Any]]]


def make_params(value_cls: type, seed: int) -> Params:
    """The weight matrices (rows of scalars), drawn from N(0, 0.08^2) with ``seed``."""
    rng = random.Random(seed)

    def matrix(rows: int, columns: int) -> list[list[Any]]:
        return [[value_cls(rng.gauss(0.0, 0.08)) for _ in range(columns)] for _ in range(rows)]

    shapes = {
        "wte": (VOCAB, N_EMBD),
        "wpe": (BLOCK, N_EMBD),
        "attn_wq": (N_EMBD, N_EMBD),
        "attn_wk": (N_EMBD, N_EMBD),
        "attn_wv": (N_EMBD, N_EMBD),
        "attn_wo": (N_EMBD, N_EMBD),
        "mlp_fc1": (4 * N_EMBD, N_EMBD),
        "mlp_fc2": (N_EMBD, 4 * N_EMBD),
        "lm_head": (VOCAB, N_EMBD),
    }
    return {name: matrix(*shape) for name, shape in shapes.items()}


def parameters(params: Params) -> list[Any]:
    """Every weight, matrix by matrix, row by row."""
    return [w for matrix in params.values() for row in matrix for w in row]


def tokens_of(name: str) -> list[int]:
    """The name's characters as token ids, with BOS on both sides."""
    return [BOS, *(CHARS.index(ch) for ch in name), BOS]


def linear(x: Sequence[Any], w: list[list[Any]]) -> list[Any]:
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits: Sequence[Any]) -> list[Any]:
    largest = max(value.data for value in logits)  # a number: it cancels in the ratio
    exps = [(value - largest).exp() for value in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: Sequence[Any]) -> list[Any]:
    mean_square = sum(xi * xi for xi in x) / len(x)
    scale = (mean_square + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt(params: Params, token: int, position: int, keys: list, values: list) -> list[Any]:
    """The logits for the next token, given this one; appends its key and value."""
    x = [t + p for t, p in zip(params["wte"][token], params["wpe"][position])]
    x = rmsnorm(x)
    residual = x
    x = rmsnorm(x)
    q, k, v = (linear(x, params[f"attn_w{n}"]) for n in "qkv")
    keys.append(k)
    values.append(v)
    attended: list[Any] = []
    for head in range(N_HEAD):
        span = slice(head * HEAD_DIM, (head + 1) * HEAD_DIM)
        q_head = q[span]
        scores = [sum(qj * kj for qj, kj in zip(q_head, key[span])) / HEAD_DIM**0.5 for key in keys]
        weights = softmax(scores)
        attended += [
            sum(weights[t] * values[t][span][j] for t in range(len(values)))
            for j in range(HEAD_DIM)
        ]
    x = [a + r for a, r in zip(linear(attended, params["attn_wo"]), residual)]
    residual = x
    x = rmsnorm(x)
    x = [xi.relu() for xi in linear(x, params["mlp_fc1"])]
    x = [a + r for a, r in zip(linear(x, params["mlp_fc2"]), residual)]
    return linear(x, params["lm_head"])


def document_loss(value_cls: type, params: Params, tokens: Sequence[int]) -> Any:
    """The mean cross-entropy of predicting each next token of one document."""
    del value_cls  # the class is the params'; kept so every engine is called alike
    keys: list = []
    values: list = []
    n = min(BLOCK, len(tokens) - 1)
    losses = []
    for position in range(n):
        probs = softmax(gpt(params, tokens[position], position, keys, values))
        losses.append(-probs[tokens[position + 1]].log())
    return (1 / n) * sum(losses)


# -- measuring ---------------------------------------------------------------------------


def count_nodes(root: Any) -> int:
    """Nodes in the graph below ``root`` (both engines name the operands ``children``)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop().children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def timed_step(value_cls: type, params: Params, name: str) -> tuple[float, float]:
    """CPU seconds of the forward pass and of the backward pass of one step.

    CPU time of this process, not wall time: on a shared machine the waits for a
    core would otherwise land on whichever engine happened to be running.
    """
    for w in parameters(params):
        w.grad = 0.0
    tokens = tokens_of(name)
    gc.collect()
    start = time.process_time()
    loss = document_loss(value_cls, params, tokens)
    middle = time.process_time()
    loss.backward()
    return middle - start, time.process_time() - middle


def bytes_per_node(value_cls: type, params: Params, name: str) -> float:
    """Memory the graph of one step holds (tracemalloc), per node it has."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss = document_loss(value_cls, params, tokens_of(name))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held / (count_nodes(loss) - len(parameters(params)))


def resident_bytes_per_node(label: str, copies: int = 3) -> float:
    """Resident memory per node of ``copies`` x 20 graphs kept alive, one engine in this process.

    Read from ``/proc/self/statm`` (Linux) before and after building the graphs, the
    collector off: what the allocator really took, its rounding and arenas included,
    where tracemalloc counts the bytes asked for. Run each engine in a process of
    its own (``--resident`` does), so that neither reuses memory the other freed.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this working tree
    from tinygrad_bp import Value

    value_cls = {"minimal": MinimalValue, "ours": Value}[label]
    params = make_params(value_cls, seed=0)
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    gc.collect()
    gc.disable()
    before = resident()
    kept = [document_loss(value_cls, params, tokens_of(name)) for name in NAMES * copies]
    grown = resident() - before
    nodes = sum(count_nodes(loss) - len(parameters(params)) for loss in kept)
    return grown / nodes


def check_agreement(engines: dict[str, type], name: str = NAMES[0]) -> None:
    """Both engines give the same loss and gradients from the same weights."""
    results = {}
    for label, value_cls in engines.items():
        params = make_params(value_cls, seed=0)
        loss = document_loss(value_cls, params, tokens_of(name))
        loss.backward()
        results[label] = (loss.data, [w.grad for w in parameters(params)])
    (loss_a, grads_a), (loss_b, grads_b) = results.values()
    assert math.isclose(loss_a, loss_b, rel_tol=1e-12), (loss_a, loss_b)
    assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(grads_a, grads_b))


def compare(rounds: int, names: Sequence[str] = NAMES) -> dict[str, float]:
    """Median forward and backward seconds per step of each engine, interleaved, and ratios."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this working tree
    from tinygrad_bp import Value

    engines: dict[str, type] = {"minimal": MinimalValue, "ours": Value}
    check_agreement(engines)
    params = {label: make_params(cls, seed=0) for label, cls in engines.items()}
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in engines}
    labels = list(engines)
    for round_index in range(rounds):
        for name in names:  # the engine that goes first alternates from round to round
            for label in labels[round_index % 2 :] + labels[: round_index % 2]:
                samples[label].append(timed_step(engines[label], params[label], name))
    medians = {
        label: (statistics.median(f for f, _ in s), statistics.median(b for _, b in s))
        for label, s in samples.items()
    }
    memory = {label: bytes_per_node(cls, params[label], names[0]) for label, cls in engines.items()}
    (f_min, b_min), (f_ours, b_ours) = medians["minimal"], medians["ours"]
    return {
        "forward_ms_minimal": f_min * 1e3,
        "forward_ms_ours": f_ours * 1e3,
        "backward_ms_minimal": b_min * 1e3,
        "backward_ms_ours": b_ours * 1e3,
        "step": (f_min + b_min) / (f_ours + b_ours),
        "forward": f_min / f_ours,
        "backward": b_min / b_ours,
        "bytes_per_node_minimal": memory["minimal"],
        "bytes_per_node_ours": memory["ours"],
    }


def breakdown(rounds: int, names: Sequence[str] = NAMES) -> dict[str, dict[str, float]]:
    """Where each engine's step goes: medians in ms of CPU time, interleaved.

    forward, and the part of it spent in the cyclic garbage collector (timed with
    ``gc.callbacks``); backward, and the part of it that finds the order (the
    minimal engine's recursive ``topological_order``, our sweep's walk and sort
    ``_reached``, each timed on its own, on the graph just built, as in a sweep); the
    rest of backward (timed on a graph built again) is the chain-rule loop.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this working tree
    from tinygrad_bp import Value
    from tinygrad_bp.engine import _reached

    engines: dict[str, type] = {"minimal": MinimalValue, "ours": Value}
    orders = {"minimal": lambda root: root.topological_order(), "ours": _reached}
    params = {label: make_params(cls, seed=0) for label, cls in engines.items()}
    collecting: list[float] = []
    started: list[float] = []

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(time.process_time())
        else:
            collecting.append(time.process_time() - started.pop())

    samples: dict[str, dict[str, list[float]]] = {
        label: {"forward": [], "collector": [], "backward": [], "order": []} for label in engines
    }
    gc.callbacks.append(timer)
    try:
        for round_index in range(rounds):
            for name in names:
                for label in list(engines)[round_index % 2 :] + list(engines)[: round_index % 2]:
                    cls, s = engines[label], samples[label]
                    for w in parameters(params[label]):
                        w.grad = 0.0
                    gc.collect()
                    collecting.clear()
                    start = time.process_time()
                    loss = document_loss(cls, params[label], tokens_of(name))
                    s["forward"].append(time.process_time() - start)
                    s["collector"].append(sum(collecting))
                    gc.disable()  # both sweeps run with the collector paused
                    start = time.process_time()
                    orders[label](loss)
                    s["order"].append(time.process_time() - start)
                    gc.enable()
                    for w in parameters(params[label]):
                        w.grad = 0.0
                    del loss  # a fresh graph for the backward: not one the order just warmed
                    loss = document_loss(cls, params[label], tokens_of(name))
                    gc.collect()
                    start = time.process_time()
                    loss.backward()
                    s["backward"].append(time.process_time() - start)
                    del loss  # no graph alive during the other engine's forward
    finally:
        gc.callbacks.remove(timer)
    return {
        label: {part: statistics.median(v) * 1e3 for part, v in s.items()}
        for label, s in samples.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds over the names")
    parser.add_argument(
        "--breakdown", action="store_true", help="where each step's time goes (GC, order, loop)"
    )
    parser.add_argument(
        "--resident",
        action="store_true",
        help="resident memory per node (Linux), each engine in a process of its own",
    )
    parser.add_argument("--resident-of", choices=["minimal", "ours"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))  # the minimal engine recurses
    if args.resident_of:
        print(f"{resident_bytes_per_node(args.resident_of):.1f}")
        return
    if args.resident:
        for label in ("minimal", "ours", "minimal", "ours"):
            child = [sys.executable, __file__, "--resident-of", label]
            figure = subprocess.run(child, capture_output=True, text=True, check=True).stdout
            print(f"{label:8} {figure.strip()} bytes per node resident (60 graphs kept alive)")
        return
    if args.breakdown:
        for label, parts in breakdown(args.rounds).items():
            f, c, b, o = (parts[k] for k in ("forward", "collector", "backward", "order"))
            print(
                f"{label:8} forward {f:5.1f} ms (collector {c:5.1f})   backward {b:5.1f} ms "
                f"(order {o:5.1f}, chain-rule loop {b - o:5.1f})"
            )
        return
    r = compare(args.rounds)
    print(
        f"microgpt step, ours vs a minimal slots-and-tuples Value (x faster; goals 1.5/1.2/2.0):\n"
        f"  step {r['step']:.2f}x   forward {r['forward']:.2f}x "
        f"({r['forward_ms_minimal']:.1f} vs {r['forward_ms_ours']:.1f} ms)   "
        f"backward {r['backward']:.2f}x "
        f"({r['backward_ms_minimal']:.1f} vs {r['backward_ms_ours']:.1f} ms)\n"
        f"  bytes per node: minimal {r['bytes_per_node_minimal']:.0f}, "
        f"ours {r['bytes_per_node_ours']:.0f}"
    )


if __name__ == "__main__":
    main()

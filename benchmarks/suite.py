"""The workloads of the issue "Speed": agreement checks first, then interleaved timings.

``check_*`` functions raise AssertionError when an implementation disagrees with
tinygrad_bp (the smoke test runs them on tiny sizes); ``measure_*`` functions
check, time and return table rows.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import scalar_workloads as sw
from benchmarks import tensor_workloads as tw
from benchmarks import traced_workloads as trw
from benchmarks.harness import (
    Row,
    assert_close,
    format_table,
    interleaved_medians,
    seconds,
    speedup_row,
)
from tinygrad_bp import Value
from tinygrad_bp.tracing.tape import COMPILE_AT

MOONS_SIZES = [2, 16, 16, 1]
SCALAR_RTOL = 1e-9
HAND_LIMIT = 1.15  # the tensor step may take at most this multiple of hand-written numpy

BIG = tw.Spec((784, 256, 128, 10), "relu", None, "cross_entropy", batch=128)
BIG32 = tw.Spec((784, 256, 128, 10), "relu", None, "cross_entropy", batch=128, dtype=np.float32)
SMALL = tw.Spec((2, 16, 16, 1), "sigmoid", "sigmoid", "half_sse", batch=32, lr=0.1)
TINY_SPECS = (
    tw.Spec((6, 5, 4, 3), "relu", None, "cross_entropy", batch=4),
    tw.Spec((6, 5, 4, 3), "relu", None, "cross_entropy", batch=4, dtype=np.float32),
    tw.Spec((2, 3, 3, 1), "sigmoid", "sigmoid", "half_sse", batch=4, lr=0.1),
)


def _rtol(spec: tw.Spec) -> float:
    return 1e-9 if spec.dtype == np.float64 else 1e-4


def micrograd_installed() -> bool:
    return sw.MicroValue is not None


# -- scalar engine ------------------------------------------------------------------------


def check_moons(samples: int) -> None:
    """One hinge-loss step from the same weights: same loss, same weights after it."""
    X, y = sw.moons_data(samples)
    models = sw.mlp_pair(MOONS_SIZES)
    ours = models.pop("tinygrad_bp")
    loss = sw.hinge_step(Value, ours, X, y, lr=0.1)
    for name, model in models.items():
        theirs = sw.hinge_step(sw.MicroValue, model, X, y, lr=0.1)
        assert_close(name, "tinygrad_bp", loss, theirs, SCALAR_RTOL)
        assert_close(name, "tinygrad_bp", sw.weights_of(ours), sw.weights_of(model), SCALAR_RTOL)


def measure_moons(samples: int, rounds: int) -> list[Row]:
    check_moons(samples)
    if not micrograd_installed():
        return []
    X, y = sw.moons_data(samples)
    models = sw.mlp_pair(MOONS_SIZES)
    values = {"tinygrad_bp": Value, "micrograd": sw.MicroValue}
    candidates = {
        name: (lambda v=values[name], m=model: sw.hinge_step(v, m, X, y, lr=0.01))
        for name, model in models.items()
    }
    times = interleaved_medians(candidates, rounds)
    workload = f"scalar MLP step 2-16-16-1, {samples} samples (hinge + L2, SGD)"
    goal = ">= 50x (target 100x)"
    return [speedup_row(workload, "micrograd", times["tinygrad_bp"], times["micrograd"], 50, goal)]


def check_elementary(lanes: int, depth: int) -> None:
    ours = sw.elementary_run(Value, lanes, depth)
    if micrograd_installed():
        theirs = sw.elementary_run(sw.MicroValue, lanes, depth)
        assert_close("micrograd", "tinygrad_bp", ours, theirs, SCALAR_RTOL)


def measure_elementary(lanes: int, depth: int, rounds: int) -> list[Row]:
    check_elementary(lanes, depth)
    if not micrograd_installed():
        return []
    nodes = sw.count_nodes(sw.elementary_graph(Value, lanes, depth)[0])
    values = {"tinygrad_bp": Value, "micrograd": sw.MicroValue}
    candidates = {
        name: (lambda v=v: sw.elementary_run(v, lanes, depth)) for name, v in values.items()
    }
    times = {name: t / nodes for name, t in interleaved_medians(candidates, rounds).items()}
    workload = f"scalar + * relu, {nodes:,} nodes: build + backward per node"
    ours_bytes = sw.bytes_per_node(Value, lanes, depth)
    theirs_bytes = sw.bytes_per_node(sw.MicroValue, lanes, depth)
    memory = Row(
        "scalar + * relu: bytes per node of the graph (tracemalloc)",
        "micrograd",
        f"{ours_bytes:.0f} B",
        f"{theirs_bytes:.0f} B",
        theirs_bytes / ours_bytes,
        "<= 1/2 the bytes",
        theirs_bytes / ours_bytes >= 2.0,
    )
    speed = speedup_row(workload, "micrograd", times["tinygrad_bp"], times["micrograd"], 3, ">= 3x")
    return [speed, memory]


def measure_microgpt(rounds: int) -> list[Row]:
    """microgpt's GPT step on scalars: ours against a minimal slots-and-tuples Value."""
    from benchmarks import microgpt

    r = microgpt.compare(rounds)
    workload = "microgpt step on scalars (1 layer, 4,192 params, one name)"
    peer = "minimal Value"
    forward = r["forward_ms_ours"] / 1e3, r["forward_ms_minimal"] / 1e3
    backward = r["backward_ms_ours"] / 1e3, r["backward_ms_minimal"] / 1e3
    memory = r["bytes_per_node_minimal"] / r["bytes_per_node_ours"]
    return [
        speedup_row(
            workload, peer, forward[0] + backward[0], forward[1] + backward[1], 1.5, ">= 1.5x"
        ),
        speedup_row(f"{workload}: forward", peer, forward[0], forward[1], 1.2, ">= 1.2x"),
        speedup_row(f"{workload}: backward", peer, backward[0], backward[1], 2.0, ">= 2x"),
        Row(
            "microgpt step: bytes per node of the graph (tracemalloc)",
            peer,
            f"{r['bytes_per_node_ours']:.0f} B",
            f"{r['bytes_per_node_minimal']:.0f} B",
            memory,
            "<= the minimal Value's",
            memory >= 1.0,
        ),
    ]


def measure_chain(depth: int) -> list[Row]:
    start = time.perf_counter()
    reached, status = sw.deepest_chain(Value, [depth])
    ours = f"{reached:,} in {seconds(time.perf_counter() - start)}" if reached else status
    theirs = "not installed"
    if micrograd_installed():
        theirs = sw.deepest_chain(sw.MicroValue, [100, 10_000])[1]
    workload = "scalar chain y <- y + 1 that backpropagates"
    return [Row(workload, "micrograd", ours, theirs, None, f"{depth:,} deep", reached == depth)]


def check_xor(epochs: int) -> None:
    models = sw.xor_pair()
    ours = sw.xor_train(models.pop("tinygrad_bp"), epochs)
    for name, model in models.items():
        assert_close(name, "tinygrad_bp", ours, sw.xor_train(model, epochs), SCALAR_RTOL)


def measure_xor(epochs: int, rounds: int) -> list[Row]:
    check_xor(epochs)
    if not micrograd_installed():
        return []
    models = sw.xor_pair()
    candidates = {name: (lambda m=m: sw.xor_train(m, epochs)) for name, m in models.items()}
    times = interleaved_medians(candidates, max(3, rounds // 3))
    workload = f"XOR 2-2-1 sigmoid, online SGD, {epochs:,} epochs"
    return [
        speedup_row(workload, "micrograd", times["tinygrad_bp"], times["micrograd"], 20, ">= 20x")
    ]


# -- traced steps (tinygrad_bp.trace) --------------------------------------------------------

TRACED_HAND_LIMITS = {SMALL: 1.5, BIG: 1.10, BIG32: 1.10}  # at most this multiple of hand numpy


def check_traced_moons(samples: int) -> None:
    """The traced demo step gives the eager step's loss and weights, on its tape and then
    compiled (from its COMPILE_AT-th call)."""
    X, y = sw.moons_data(samples)
    eager, traced = sw.mlp_pair(MOONS_SIZES)["tinygrad_bp"], sw.mlp_pair(MOONS_SIZES)["tinygrad_bp"]
    step = trw.traced_hinge_step(traced, X, y, lr=0.1)
    for _ in range(COMPILE_AT + 1):
        loss = sw.hinge_step(Value, eager, X, y, lr=0.1)
        assert_close("tinygrad_bp traced", "tinygrad_bp", loss, step(), SCALAR_RTOL)
    assert_close(
        "tinygrad_bp traced",
        "tinygrad_bp",
        sw.weights_of(eager),
        sw.weights_of(traced),
        SCALAR_RTOL,
    )


def measure_traced_moons(samples: int, rounds: int) -> list[Row]:
    check_traced_moons(samples)
    X, y = sw.moons_data(samples)
    models = sw.mlp_pair(MOONS_SIZES)
    traced_model = sw.mlp_pair(MOONS_SIZES)["tinygrad_bp"]
    traced = trw.traced_hinge_step(traced_model, X, y, lr=0.01)
    # The step's 8,000 nodes run on the tape until its COMPILE_AT-th call, then compiled:
    # timed as in a long training run, compiled (the tape's own cost: traced_microgpt.py).
    for _ in range(COMPILE_AT):
        traced()
    candidates: dict[str, Callable[[], object]] = {
        "traced": traced,
        "eager": lambda: sw.hinge_step(Value, models["tinygrad_bp"], X, y, lr=0.01),
    }
    if micrograd_installed():
        micro = models["micrograd"]
        candidates["micrograd"] = lambda: sw.hinge_step(sw.MicroValue, micro, X, y, lr=0.01)
    times = interleaved_medians(candidates, rounds)
    workload = f"traced scalar MLP step 2-16-16-1, {samples} samples (hinge + L2, SGD)"
    rows = [speedup_row(workload, "eager", times["traced"], times["eager"], None, "(info)")]
    if micrograd_installed():
        rows.append(
            speedup_row(workload, "micrograd", times["traced"], times["micrograd"], 100, ">= 100x")
        )
    return rows


def check_traced_xor(epochs: int) -> None:
    eager = sw.xor_train(sw.xor_pair()["tinygrad_bp"], epochs)
    traced = trw.traced_xor_train(sw.xor_pair()["tinygrad_bp"], epochs)
    assert_close("tinygrad_bp traced", "tinygrad_bp", eager, traced, SCALAR_RTOL)


def measure_traced_xor(epochs: int, rounds: int) -> list[Row]:
    check_traced_xor(epochs)
    if not micrograd_installed():
        return []
    models = sw.xor_pair()
    traced_model = sw.xor_pair()["tinygrad_bp"]
    candidates: dict[str, Callable[[], object]] = {
        "traced": lambda: trw.traced_xor_train(traced_model, epochs),
        "micrograd": lambda: sw.xor_train(models["micrograd"], epochs),
    }
    times = interleaved_medians(candidates, max(3, rounds // 3))
    workload = f"traced XOR 2-2-1 sigmoid, online SGD, {epochs:,} epochs"
    return [speedup_row(workload, "micrograd", times["traced"], times["micrograd"], 10, ">= 10x")]


def check_traced_tensor_step(spec: tw.Spec) -> None:
    """The traced step, the eager one and the hand-written one: same loss, same weights."""
    built = trw.build_pair(spec)
    ours = built.pop("tinygrad_bp")
    loss, weights = ours.step(), ours.weights()
    for name, implementation in built.items():
        assert_close(name, "tinygrad_bp", loss, implementation.step(), _rtol(spec))
        for mine, other in zip(weights, implementation.weights(), strict=True):
            assert_close(name, "tinygrad_bp", list(mine), list(other), _rtol(spec))


def measure_traced_tensor_step(spec: tw.Spec, rounds: int, repeat: int) -> list[Row]:
    check_traced_tensor_step(spec)
    built = trw.build_pair(spec)
    times = interleaved_medians({name: impl.step for name, impl in built.items()}, rounds, repeat)
    limit = TRACED_HAND_LIMITS[spec]
    loss = "ReLU, CE from logits" if spec.loss == "cross_entropy" else "sigmoid, half SSE"
    workload = f"traced tensor MLP step {spec.label()}, {loss}, SGD"
    traced = times["tinygrad_bp traced"]
    return [
        speedup_row(workload, "eager", traced, times["tinygrad_bp"], None, "(info)"),
        speedup_row(
            workload, "hand numpy", traced, times["hand numpy"], 1 / limit, f"<= {limit}x its time"
        ),
    ]


# -- tensor engine ------------------------------------------------------------------------


def check_tensor_step(spec: tw.Spec) -> dict[str, Any]:
    """Build every implementation, check one step against ours; return fresh ones to time."""
    first = tw.build_all(spec)
    ours = first.pop("tinygrad_bp")
    loss, weights = ours.step(), ours.weights()
    for name, implementation in first.items():
        theirs = implementation.step()
        assert_close(name, "tinygrad_bp", loss, theirs, _rtol(spec))
        for mine, other in zip(weights, implementation.weights(), strict=True):
            assert_close(name, "tinygrad_bp", list(mine), list(other), _rtol(spec))
    return tw.build_all(spec)


def measure_tensor_step(spec: tw.Spec, rounds: int, repeat: int) -> list[Row]:
    built = check_tensor_step(spec)
    times = interleaved_medians({name: impl.step for name, impl in built.items()}, rounds, repeat)
    ours = times.pop("tinygrad_bp")
    big = spec.sizes[0] > 100
    loss = "ReLU, CE from logits" if spec.loss == "cross_entropy" else "sigmoid, half SSE"
    workload = f"tensor MLP step {spec.label()}, {loss}, SGD"
    rows = []
    for name, theirs in times.items():
        if name == "hand numpy":
            at_least, goal = (1 / HAND_LIMIT, "<= 1.15x its time") if big else (None, "(info)")
        elif name == "PyTorch" and not big:
            at_least, goal = 2.0, ">= 2x"
        else:
            at_least, goal = 1.0, "faster"
        rows.append(speedup_row(workload, name, ours, theirs, at_least, goal))
    return rows


# -- the whole run ------------------------------------------------------------------------


def check_all(sizes: Any) -> None:
    """Every agreement check, on the given sizes (the smoke test uses tiny ones)."""
    check_moons(sizes.moons_samples)
    check_elementary(sizes.lanes, sizes.depth)
    sw.chain(Value, sizes.chain)
    check_xor(sizes.xor_epochs)
    for spec in TINY_SPECS:
        check_tensor_step(spec)
        check_traced_tensor_step(spec)
    check_traced_moons(sizes.moons_samples)
    check_traced_xor(sizes.xor_epochs)


def machine(threads: int) -> str:
    """One paragraph naming the machine, the versions and the thread settings."""
    cpu = platform.processor() or "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else cpu
    parts = [
        f"{datetime.date.today()}",
        f"{os.cpu_count()} CPUs ({cpu})",
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
    ]
    for module in ("torch", "mygrad", "autograd", "micrograd"):
        if importlib.util.find_spec(module) is None:
            parts.append(f"{module}: not installed, its rows skipped")
        elif module == "torch":
            import torch

            torch.set_num_threads(threads)
            parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s))")
        else:
            parts.append(f"{module} installed")
    parts.append(f"BLAS threads pinned to {threads} for every implementation")
    return "; ".join(parts)


def run(sizes: Any, threads: int, only: str | None = None) -> None:
    """Check and time every workload (or those whose name starts with ``only``)."""
    print(machine(threads), flush=True)
    rows: list[Row] = []
    steps = [
        ("scalar MLP", lambda: measure_moons(sizes.moons_samples, sizes.rounds)),
        ("elementary ops", lambda: measure_elementary(sizes.lanes, sizes.depth, sizes.rounds)),
        ("chain", lambda: measure_chain(sizes.chain)),
        ("microgpt", lambda: measure_microgpt(max(1, sizes.rounds // 5))),
        ("XOR", lambda: measure_xor(sizes.xor_epochs, sizes.rounds)),
        ("tensor 784 float64", lambda: measure_tensor_step(BIG, sizes.rounds, 3)),
        ("tensor 784 float32", lambda: measure_tensor_step(BIG32, sizes.rounds, 3)),
        ("tensor 2-16-16-1", lambda: measure_tensor_step(SMALL, sizes.rounds, 100)),
        ("traced scalar MLP", lambda: measure_traced_moons(sizes.moons_samples, sizes.rounds)),
        ("traced XOR", lambda: measure_traced_xor(sizes.xor_epochs, sizes.rounds)),
        ("traced 784 float64", lambda: measure_traced_tensor_step(BIG, sizes.rounds, 3)),
        ("traced 784 float32", lambda: measure_traced_tensor_step(BIG32, sizes.rounds, 3)),
        ("traced 2-16-16-1", lambda: measure_traced_tensor_step(SMALL, sizes.rounds, 100)),
    ]
    for name, step in steps:
        if only is not None and not name.startswith(only):
            continue
        start = time.perf_counter()
        rows += step()
        print(f"  {name}: checked and timed in {time.perf_counter() - start:.1f} s", flush=True)
    print()
    print(format_table(rows))
    missed = [row for row in rows if row.passed is False]
    print(f"\n{len(missed)} goal(s) missed" if missed else "\nevery goal met")

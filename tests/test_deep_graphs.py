"""Deep and wide graphs: no recursion, exact gradients, memory proportional to the graph.

The oracles are exact: along a chain of multiplications by 1.0 the gradient is
1.0, and a leaf x feeding n products ``x * 2`` that are summed has gradient 2n,
both exactly representable. Memory is measured with tracemalloc as the peak of
building the graph and running backward, divided by the number of nodes.

Measured on the development machine (peak bytes per node, build + backward):
Value about 260, Tensor about 500. The bounds below leave about 2x headroom,
so they catch a leak or a quadratic structure, not noise.
"""

import tracemalloc

import numpy as np

from tinygrad_bp import Tensor, Value
from tinygrad_bp.graph import toposort

VALUE_BYTES_PER_NODE = 600
TENSOR_BYTES_PER_NODE = 1_000


def value_fan_out(n: int) -> tuple[Value, Value]:
    """root = sum over n copies of x * 2: x feeds n nodes; d(root)/dx = 2n."""
    x = Value(1.0)
    root = Value(0.0)
    for _ in range(n):
        root = root + x * 2.0
    return root, x


def tensor_fan_out(n: int) -> tuple[Tensor, Tensor]:
    """The same on a (3,) tensor: d(root.sum())/dx = 2n for every element."""
    x = Tensor(np.ones(3), requires_grad=True)
    root = Tensor(np.zeros(3))
    for _ in range(n):
        root = root + x * 2.0
    return root.sum(), x


def tensor_chain(n: int) -> tuple[Tensor, Tensor]:
    """root = x * 1.0 * 1.0 * ... (n times): a chain n nodes deep, d(root)/dx = 1."""
    x = Tensor([1.0], requires_grad=True)
    root = x
    for _ in range(n):
        root = root * 1.0
    return root, x


def peak_bytes_per_node(build, n: int) -> float:
    """Peak traced memory of building the graph and backpropagating, per graph node."""
    tracemalloc.start()
    try:
        root, _ = build(n)
        root.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / len(toposort(root))


def test_value_fan_out_of_100_000_backpropagates_exactly():
    root, x = value_fan_out(100_000)
    root.backward()
    assert x.grad == 200_000.0
    assert root.data == 200_000.0


def test_tensor_fan_out_of_50_000_backpropagates_exactly():
    root, x = tensor_fan_out(50_000)
    root.backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 100_000.0))


def test_tensor_chain_of_100_000_backpropagates_without_recursion():
    root, x = tensor_chain(100_000)
    root.backward()
    assert x.grad.tolist() == [1.0]
    assert len(toposort(root)) == 200_001  # each step adds a constant leaf and a product


def test_value_graph_memory_is_bounded_per_node():
    assert peak_bytes_per_node(value_fan_out, 20_000) < VALUE_BYTES_PER_NODE


def test_tensor_graph_memory_is_bounded_per_node():
    assert peak_bytes_per_node(tensor_fan_out, 10_000) < TENSOR_BYTES_PER_NODE
    assert peak_bytes_per_node(tensor_chain, 10_000) < TENSOR_BYTES_PER_NODE


def test_memory_per_node_does_not_grow_with_the_graph():
    small = peak_bytes_per_node(value_fan_out, 5_000)
    large = peak_bytes_per_node(value_fan_out, 20_000)
    assert large < 1.25 * small  # proportional: four times the nodes, about the same per node

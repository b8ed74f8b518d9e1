"""``python -m tinygrad_bp`` (also ``tinygrad-bp``): replay the tutorial's claims.

Each subcommand is thin: it parses options and calls the library.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from . import data, delta
from .losses import half_sse
from .nn import MLP, get_weights, set_weights
from .perceptron import Perceptron
from .train import fit

# The derivation's worked example, in the (n_in + 1, n_out) convention (bias row first).
WORKED_WEIGHTS = [
    np.array([[1.0, 1.0], [0.25, 0.15], [0.2, 0.1]]),
    np.array([[1.0], [0.3], [0.4]]),
]
# The tutorial names this example x3 = (0, 1) but its arithmetic uses x1 = 1, x2 = 0.
WORKED_INPUT = np.array([1.0, 0.0])
WORKED_TARGET = np.array([1.0])
WORKED_LR = 0.5


def worked_example_rows(
    weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float
) -> list[tuple[str, float, float]]:
    """Every number of one online step, as (name, autograd, closed form) rows.

    Autograd: a scalar MLP with these weights runs forward, half_sse backward; a
    unit's delta is -dJ/dz read off its net-input node, Delta w = -lr dJ/dw.
    Closed form: ``delta.forward``, ``delta.deltas``, ``delta.weight_updates``.
    """
    net = MLP(len(x), [w.shape[1] for w in weights])
    set_weights(net, weights)
    layer_outputs = []
    out = [float(v) for v in x]
    for layer in net.layers:
        out = [neuron(out) for neuron in layer.neurons]
        layer_outputs.append(out)
    loss = half_sse(layer_outputs[-1], y)
    loss.backward()

    activations = delta.forward(list(weights), x)
    closed_deltas = delta.deltas(list(weights), activations, y)
    updates = delta.weight_updates(activations, closed_deltas, lr)

    rows = []
    for layer_index, units in enumerate(layer_outputs):
        for j, o in enumerate(units):
            rows.append((f"o[{layer_index + 1}][{j + 1}]", o.data, activations[layer_index + 1][j]))
    rows.append(("J", loss.data, delta.half_sse(activations[-1], y)))
    for layer_index, units in enumerate(layer_outputs):
        for j, o in enumerate(units):
            net_input = o.children[0]  # sigmoid(z): its only child is z
            rows.append(
                (
                    f"delta[{layer_index + 1}][{j + 1}]",
                    -net_input.grad,
                    closed_deltas[layer_index][j],
                )
            )
    for layer_index, layer in enumerate(net.layers):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate([neuron.b, *neuron.w]):
                old = weights[layer_index][i, j]
                rows.append(
                    (
                        f"new w[{layer_index + 1}][{i},{j + 1}]",
                        old - lr * w.grad,
                        old + updates[layer_index][i, j],
                    )
                )
    return rows


def _print_table(rows: list[tuple[str, float, float]]) -> bool:
    print(f"{'quantity':<16}{'autograd':>14}{'delta rules':>14}  agree")
    agree_all = True
    for name, by_autograd, by_formula in rows:
        agree = abs(by_autograd - by_formula) <= 1e-12 * max(1.0, abs(by_formula))
        agree_all &= agree
        print(f"{name:<16}{by_autograd:>14.6f}{by_formula:>14.6f}  {'yes' if agree else 'NO'}")
    return agree_all


def cmd_worked_example(args: argparse.Namespace) -> int:
    print("The derivation's worked example: one online step of a 2-2-1 sigmoid network")
    print(f"input x = {WORKED_INPUT.tolist()}, target y = 1, learning rate {WORKED_LR}")
    print("(o[l][j]: unit j of layer l; w[l][i,j]: weight from unit i below, 0 = bias)\n")
    ok = _print_table(worked_example_rows(WORKED_WEIGHTS, WORKED_INPUT, WORKED_TARGET, WORKED_LR))
    return 0 if ok else 1


def cmd_xor(args: argparse.Namespace) -> int:
    X, y = data.xor()
    net = MLP(2, [2, 1], rng=args.seed)
    print(f"Training the 2-2-1 sigmoid network on XOR: online SGD, lr {args.lr}, seed {args.seed}")

    def report(epoch: int, loss: float) -> None:
        if not args.quiet and (epoch == 1 or epoch % args.print_every == 0):
            print(f"  epoch {epoch:>6}   J = {loss:.6f}")

    history = fit(
        net,
        X,
        y,
        lr=args.lr,
        epochs=args.epochs,
        epsilon=args.epsilon,
        progress=False if args.quiet else None,
        on_epoch=report,
    )
    status = "converged" if history.converged else "did not reach epsilon"
    print(f"{status} after {history.epochs} epochs, J = {history.losses[-1]:.6f}")
    print("\n x1  x2 | target  output")
    correct = 0
    for x_row, target in zip(X, y.ravel()):
        out = net(x_row.tolist()).data
        correct += (out > 0.5) == (target > 0.5)
        print(f" {x_row[0]:.0f}   {x_row[1]:.0f}  |   {target:.0f}     {out:.4f}")
    print(f"\n{correct}/4 outputs on the right side of 0.5")
    print("learnt weights (bias row first):")
    for w in get_weights(net):
        print(np.array2string(w, precision=4))
    return 0 if correct == 4 else 1


def cmd_gates(args: argparse.Namespace) -> int:
    print("The perceptron on the logic gates (step activation, perceptron rule):")
    gates = data.gates()
    for name in ("AND", "OR", "NOT", "XOR"):
        X, y = gates[name]
        result = Perceptron(X.shape[1]).fit(X, y, max_epochs=args.max_epochs)
        verdict = f"converged in {result.epochs} epochs" if result.converged else "never converged"
        print(f"  {name:<4} {verdict}")
    print("\nXOR from three sigmoid units: OR and NAND in the hidden layer, AND on top.")
    print(" x1  x2 |  OR  NAND | AND = XOR")
    for x_row in gates["XOR"][0]:
        hidden, out = delta.forward(HAND_BUILT_XOR, x_row)[1:]
        print(
            f" {x_row[0]:.0f}   {x_row[1]:.0f}  | {hidden[0]:.2f}  {hidden[1]:.2f} |  {out[0]:.2f}"
        )
    return 0


# OR, NAND, then AND of the two, with weights large enough to saturate the sigmoids.
HAND_BUILT_XOR = [
    np.array([[-10.0, 30.0], [20.0, -20.0], [20.0, -20.0]]),
    np.array([[-30.0], [20.0], [20.0]]),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-bp", description="Replay the backpropagation tutorial with tinygrad_bp."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worked = commands.add_parser(
        "worked-example", help="the derivation's one-step XOR example, by autograd and by formula"
    )
    worked.set_defaults(run=cmd_worked_example)

    xor = commands.add_parser("xor", help="train the 2-2-1 sigmoid network on XOR")
    xor.add_argument("--lr", type=float, default=2.0, help="learning rate (default 2.0)")
    xor.add_argument("--epochs", type=int, default=5000, help="most epochs (default 5000)")
    xor.add_argument("--epsilon", type=float, default=0.01, help="stop when J < epsilon")
    xor.add_argument("--seed", type=int, default=1, help="seed of the initial weights")
    xor.add_argument("--print-every", type=int, default=50, help="epochs between loss lines")
    xor.add_argument("--quiet", action="store_true", help="print only the result")
    xor.set_defaults(run=cmd_xor)

    gates = commands.add_parser("gates", help="perceptron vs XOR, and the OR/NAND/AND network")
    gates.add_argument("--max-epochs", type=int, default=100)
    gates.set_defaults(run=cmd_gates)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""Outgrow one machine: prototype here, export to PyTorch, train with DDP, come back.

The road out of tinygrad_bp, in four steps:

1. Prototype here: a 2-16-16-1 tanh network learns the two moons with our
   engine (binary cross-entropy, Adam), where every gradient can be looked at.
2. Export: ``tinygrad_bp.interop.to_torch`` gives the same network, weights and
   all, as a ``torch.nn.Sequential`` (float64, like ours).
3. Scale out: PyTorch's ``DistributedDataParallel`` (DDP) trains it on in two
   processes. Each process holds a full replica and sees its own half of the data
   (``DistributedSampler``); after every backward pass DDP averages the gradients
   across the processes (an all-reduce over the gloo backend, on loopback), so
   every replica takes the same step and the replicas stay identical. On one
   machine this shows the mechanics, not a speed-up: the same code runs on many
   machines when MASTER_ADDR names one of them.
4. Come back: ``from_torch`` turns rank 0's trained model into our ``Sequential``.
   Both frameworks then give the same predictions, and our tools apply again:
   the script draws the decision boundary and checks our gradients against torch's.

Needs PyTorch, whose CPU build is enough (``pip install torch --index-url
https://download.pytorch.org/whl/cpu``, then ``pip install -e ".[interop]"``). Run it
as ``python examples/outgrow_distributed.py`` (``--fast``: a few epochs).
"""

import copy
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from common import example_options

from tinygrad_bp import data, no_grad, viz
from tinygrad_bp.interop import TORCH_CPU, from_torch, to_torch
from tinygrad_bp.losses import binary_cross_entropy
from tinygrad_bp.nn import Sequential, save, tensor_mlp
from tinygrad_bp.optim import Adam
from tinygrad_bp.train import fit

WORLD_SIZE = 2  # processes, one replica each
BATCH = 8  # examples per process per step: 16 per step in all, as in the prototype
LR = 0.01  # Adam's step size, here and in PyTorch
JOIN_TIMEOUT = 120.0  # seconds the whole distributed run may take before it is stopped
NO_TORCH = f'outgrow_distributed.py needs PyTorch: {TORCH_CPU}, then pip install -e ".[interop]"'


def accuracy(predictions: np.ndarray, y: np.ndarray) -> float:
    """The fraction of points on the right side of 0.5."""
    return float(np.mean((predictions > 0.5) == (y > 0.5)))


def epochs(fast: bool) -> tuple[int, int]:
    """How many epochs to train here, then with DDP."""
    return (10, 5) if fast else (30, 60)


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """The two moons: 200 points in the plane, labels 0 and 1."""
    return data.moons(200, noise=0.15, rng=0)


def prototype(X: np.ndarray, y: np.ndarray, n_epochs: int) -> Sequential:
    """A 2-16-16-1 tanh network trained here: binary cross-entropy, Adam, batches of 16."""
    net = tensor_mlp([2, 16, 16, 1], "tanh", rng=0)
    optimizer = Adam(net.parameters(), LR)
    fit(
        net,
        X,
        y,
        loss=binary_cross_entropy,
        optimizer=optimizer,
        epochs=n_epochs,
        batch_size=16,
        shuffle=True,
        rng=0,
        progress=False,
    )
    return net


def ours_predict(model: Sequential, X: np.ndarray) -> np.ndarray:
    """Our model's output probability for each row of X (no graph recorded)."""
    with no_grad():
        return model(X).data[:, 0]


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loopback_interface() -> str:
    """The loopback network interface ("lo" on Linux, "lo0" on macOS), for gloo."""
    names = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    return names[0] if names else "lo"


def train_replica(
    rank: int, port: int, model: Any, X: np.ndarray, y: np.ndarray, epochs: int, folder: Path
) -> None:
    """One DDP process: join the group, train its replica on its shard, save its state.

    ``torch.multiprocessing.spawn`` calls this in each new process with its rank.
    """
    # Ctrl-C in the terminal reaches every process; let it end this one quietly
    # (the parent reports it) instead of raising KeyboardInterrupt mid-collective.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    torch.set_num_threads(1)  # two processes share the cores; one thread each
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME=loopback_interface()
    )
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE, timeout=timedelta(seconds=60))
    try:
        # torch.multiprocessing hands tensors to the processes in shared memory: copy the
        # model, or both processes would update one set of weights.
        replica = DistributedDataParallel(copy.deepcopy(model))  # syncs rank 0's weights
        dataset = TensorDataset(torch.tensor(X), torch.tensor(y[:, None]))
        sampler: DistributedSampler[int] = DistributedSampler(
            dataset, WORLD_SIZE, rank, shuffle=True, seed=0
        )
        loader = DataLoader(dataset, batch_size=BATCH, sampler=sampler)
        # The weights came across, our Adam's running averages did not: this one starts afresh.
        optimizer = torch.optim.Adam(replica.parameters(), lr=LR)
        if rank == 0:
            print(f"  each process trains on {len(sampler)} of {len(dataset)} examples", flush=True)
        for epoch in range(1, epochs + 1):
            sampler.set_epoch(epoch)  # one new permutation, each rank taking its own part
            total = torch.zeros(2, dtype=torch.float64)  # sum of losses, count of examples
            for inputs, targets in loader:
                optimizer.zero_grad()
                loss = torch.nn.functional.binary_cross_entropy(replica(inputs), targets)
                loss.backward()  # DDP all-reduces the gradients during backward
                optimizer.step()
                total += torch.tensor([loss.item() * len(inputs), len(inputs)])
            dist.all_reduce(total)  # sum over both processes: the loss over all the data
            if rank == 0 and (epoch == epochs or epoch % 10 == 0 or epochs <= 10):
                print(f"  epoch {epoch:>3}: mean loss {total[0] / total[1]:.4f}", flush=True)
        torch.save(replica.module.state_dict(), folder / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def train_distributed(torch_net: Any, X: np.ndarray, y: np.ndarray, epochs: int) -> list[Any]:
    """Run train_replica in WORLD_SIZE processes; return each rank's final state_dict."""
    import torch
    import torch.multiprocessing as mp

    port = free_loopback_port()
    print(f"  gloo on 127.0.0.1:{port}, {WORLD_SIZE} processes", flush=True)  # before they print
    with tempfile.TemporaryDirectory() as folder:
        # The children start with Ctrl-C ignored, so that it cannot interrupt their
        # start-up with a traceback; train_replica then lets it end them quietly.
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            args = (port, torch_net, X, y, epochs, Path(folder))
            context = mp.spawn(train_replica, args, nprocs=WORLD_SIZE, join=False)
        finally:
            signal.signal(signal.SIGINT, handler)
        deadline = time.monotonic() + JOIN_TIMEOUT
        try:
            # join returns False while a process is still running, True once all are done.
            while not context.join(timeout=max(0.0, deadline - time.monotonic())):
                if time.monotonic() >= deadline:
                    sys.exit(f"the distributed run took over {JOIN_TIMEOUT:.0f} s; stopped it")
        except mp.ProcessExitedException as error:
            if error.signal_name == "SIGINT":
                raise KeyboardInterrupt from None
            sys.exit(f"a training process failed: {error}")
        except mp.ProcessRaisedException as error:
            sys.exit(f"a training process failed:\n{error}")
        finally:
            for process in context.processes:  # nothing is left running, whatever happened
                if process.is_alive():
                    process.terminate()
                process.join(timeout=10)
        files = [Path(folder) / f"rank{rank}.pt" for rank in range(WORLD_SIZE)]
        return [torch.load(path, weights_only=True) for path in files]


def main() -> None:
    options = example_options(__doc__.splitlines()[0])
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        print(NO_TORCH, file=sys.stderr)
        sys.exit(2)
    if not dist.is_available() or not dist.is_gloo_available():
        print("this PyTorch build has no torch.distributed gloo backend", file=sys.stderr)
        sys.exit(2)
    ours_epochs, ddp_epochs = epochs(options.fast)
    X, y = dataset()

    print("1. prototype with tinygrad_bp")
    net = prototype(X, y, ours_epochs)
    before = accuracy(ours_predict(net, X), y)
    print(f"  {net}\n  {ours_epochs} epochs of Adam: training accuracy {before:.1%}")

    print("2. export with to_torch")
    torch_net = to_torch(net)
    with torch.no_grad():
        exported = torch_net(torch.tensor(X))[:, 0].numpy()
    gap = np.abs(exported - ours_predict(net, X)).max()
    print(f"  {torch_net.__class__.__name__} of {len(torch_net)} modules, max difference {gap:.1e}")

    print("3. scale out with DistributedDataParallel")
    states = train_distributed(torch_net, X, y, ddp_epochs)
    for rank, state in enumerate(states[1:], start=1):
        same = state.keys() == states[0].keys() and all(
            torch.equal(state[key], states[0][key]) for key in state
        )
        if not same:
            sys.exit(f"rank {rank}'s final weights differ from rank 0's: DDP replicas diverged")
    print(f"  ranks agree: all {len(states[0])} weight tensors identical, bit for bit")

    print("4. back with from_torch")
    torch_net.load_state_dict(states[0])
    back = from_torch(torch_net)
    with torch.no_grad():
        theirs = torch_net(torch.tensor(X))[:, 0].numpy()
    ours = ours_predict(back, X)
    difference = np.abs(ours - theirs).max()
    if not np.allclose(ours, theirs, rtol=0, atol=1e-12):  # float64 on both sides
        sys.exit(f"the frameworks disagree after the round trip: max difference {difference}")
    print(f"  predictions equal in both frameworks: max |ours - torch| = {difference:.1e}")
    print(f"  training accuracy {accuracy(ours, y):.1%} (before DDP {before:.1%})")

    # Our tools work on the model again: gradients, and a picture of what it learnt.
    loss = binary_cross_entropy(back(X), y[:, None])
    loss.backward()
    torch_loss = torch.nn.functional.binary_cross_entropy(
        torch_net(torch.tensor(X)), torch.tensor(y[:, None])
    )
    torch_loss.backward()
    gradient_gap = max(
        np.abs(p.grad - (t.grad.T if t.grad.ndim == 2 else t.grad).numpy()).max()
        for p, t in zip(back.parameters(), torch_net.parameters())
    )
    print(f"  our gradients of the loss vs torch's: max difference {gradient_gap:.1e}")
    title = f"after DDP, back in tinygrad_bp: accuracy {accuracy(ours, y):.0%}"
    path = options.out / "outgrow_distributed.png"
    print(f"wrote {viz.plot_decision_boundary(partial(ours_predict, back), X, y, path, title)}")
    print(f"wrote {save(back, options.out / 'outgrow_distributed.npz')}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

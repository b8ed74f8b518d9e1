"""Every script in examples/ runs (in its --fast mode) and shows what it claims.

Each runs in a subprocess from an empty folder, with ``--out`` pointing there, so
the tests also check that the promised pictures are written.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bp import no_grad
from tinygrad_bp.interop import from_torch, to_torch
from tinygrad_bp.losses import cross_entropy
from tinygrad_bp.nn import tensor_mlp
from tinygrad_bp.optim import Adam
from tinygrad_bp.train import fit

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
HELPERS = {"common.py"}  # imported by the scripts, not run on its own
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# script -> (facts its output must contain, pictures it must write)
PROMISES = {
    "perceptron_gates.py": (
        ["AND  converged", "OR   converged", "NOT  converged", "XOR  not converged"],
        ["perceptron_gates.png"],
    ),
    "xor_by_hand.py": (
        ["OR:", "NAND:", "AND:", "XOR:", "hand-built XOR correct"],
        ["xor_by_hand.png"],
    ),
    "worked_example.py": (
        ["autograd and delta rules agree on every row", "delta[2][1]", "new w[2][0,1]"],
        ["worked_example_before.png", "worked_example_after.png"],
    ),
    "xor_2_2_1.py": (
        ["converged after", "4/4 XOR outputs correct"],
        ["xor_loss.png", "xor_boundary.png", "xor_network.png"],
    ),
    "learning_rates.py": (
        ["too small (lr = ", "just right (lr = ", "too big (lr = ", "far too big (lr = "],
        ["learning_rates.png"],
    ),
    "local_minima.py": (["hidden units   solved   success rate"], ["local_minima.png"]),
    "curvature.py": (
        [
            "   7  1.0 ",
            "J = 0.5; largest |dJ/dw| = 0.0",
            "8 zero eigenvalues and 0.375 = 3/8",
            "lambda_max = 69.3",
            "converges",
            "diverges",
        ],
        ["curvature.png"],
    ),
    "error_surface.py": (
        ["solved run", "stuck run", "origin: J = 0.5", "lowest J found at distance 0.1: 1/2 - "],
        [
            "error_surface_solved.png",
            "error_surface_solved_3d.png",
            "error_surface_stuck.png",
            "error_surface_valley_growth.png",
            "error_surface_saddle.png",
            "error_surface_no_hidden.png",
        ],
    ),
    "xor_lab.py": (
        ["XOR lab: 50 networks", "alpha = 0.5", "valley at infinity", "2-4-1"],
        ["xor_lab.png", "xor_lab_wide.png"],
    ),
    "decision_boundaries.py": (
        ["0 hidden layer(s)", "1 hidden layer(s)", "2 hidden layer(s)"],
        ["boundary_0_hidden.png", "boundary_1_hidden.png", "boundary_2_hidden.png"],
    ),
    "sine_approximation.py": (["largest error on [-pi, pi]"], ["sine_fit.png", "sine_loss.png"]),
    "digits.py": (["test accuracy", "on 360 unseen digits"], ["digits_loss.png"]),
    "outgrow_distributed.py": (
        [
            "each process trains on 100 of 200 examples",
            "ranks agree: all 6 weight tensors identical, bit for bit",
            "predictions equal in both frameworks",
        ],
        ["outgrow_distributed.png"],
    ),
}
# script -> the optional module it needs, and how to install it
NEEDS = {
    "digits.py": ("sklearn", "pip install scikit-learn"),
    "outgrow_distributed.py": ("torch", 'pip install -e ".[interop]" (PyTorch\'s CPU build)'),
}


def check_local_minima_table(stdout, folder):
    """One row per width, each printed rate equals solved / seeds, over at least 30 seeds;
    the narrowest net is the one that gets stuck most often, the widest never."""
    rows = re.findall(r"^\s+(\d+)\s+(\d+)/(\d+)\s+(\d+)%$", stdout, re.MULTILINE)
    assert [int(row[0]) for row in rows] == [2, 3, 4, 8]
    for _, solved, seeds, percent in rows:
        assert round(100 * int(solved) / int(seeds)) == int(percent)
        assert int(seeds) >= 30
    rates = [int(row[3]) for row in rows]
    assert rates[0] == min(rates) < rates[-1] == 100


def check_learning_rates_table(stdout, folder):
    """Too small never gets there, just right is fastest, too big overshoots (zigzags) and
    far too big, past the printed stability limit 2 / lambda, blows up."""
    limit = float(re.search(r"stable for lr < 2 / lambda = (\S+)", stdout).group(1))
    pattern = (
        r"^(too small|just right|too big|far too big) \(lr = (\S+)\)\s+(\d+)/(\d+)"
        r"\s+(\S+)\s+(\S+)\s+(\d+)%\s+(\d+)%$"
    )
    rows = {
        name: (float(lr), int(done), int(seeds), median, float(final), int(rises), int(zigzag))
        for name, lr, done, seeds, median, final, rises, zigzag in re.findall(
            pattern, stdout, re.MULTILINE
        )
    }
    assert list(rows) == ["too small", "just right", "too big", "far too big"]
    lrs = [row[0] for row in rows.values()]
    assert lrs == sorted(lrs) and lrs[2] < limit < lrs[3]
    small, right, big, far = rows.values()
    assert small[1] == 0 and small[4] > 1e-6 and small[5] == small[6] == 0
    assert right[1] == right[2] and big[1] == big[2]  # both converge on every seed
    assert int(right[3]) < int(big[3])  # fewer epochs just right than too big
    assert right[6] == 0 and big[6] >= 50  # too big jumps over the best slope
    assert far[1] == 0 and far[5] == 100 and far[4] > 1e6  # J rises every epoch


def import_example(name):
    """The script examples/<name>.py as a module (its __main__ part does not run)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(EXAMPLES))  # for its `from common import ...`
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def one_process_oracle(example):
    """What DDP should compute, in one process and without torch.distributed.

    DDP averages the processes' gradients, so each step is the step of one model on
    the gradient of the mean of the processes' batch losses: replay that with the
    shards DistributedSampler gives each rank, from the same prototype.
    """
    import torch
    from torch.nn.functional import binary_cross_entropy as bce
    from torch.utils.data import DistributedSampler

    X, y = example.dataset()
    ours_epochs, ddp_epochs = example.epochs(fast=True)
    net = to_torch(example.prototype(X, y, ours_epochs))
    optimizer = torch.optim.Adam(net.parameters(), lr=example.LR)
    inputs, targets = torch.tensor(X), torch.tensor(y[:, None])
    ranks = range(example.WORLD_SIZE)
    samplers = [DistributedSampler(range(len(X)), len(ranks), rank, seed=0) for rank in ranks]
    for epoch in range(1, ddp_epochs + 1):
        shards = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        for start in range(0, len(shards[0]), example.BATCH):
            optimizer.zero_grad()
            batches = [shard[start : start + example.BATCH] for shard in shards]
            losses = [bce(net(inputs[b]), targets[b]) for b in batches]
            (sum(losses) / len(losses)).backward()
            optimizer.step()
    return net


def check_outgrow_distributed(stdout, folder):
    """The printed gap is float64 rounding, and the saved model is what DDP should give."""
    gap = float(re.search(r"max \|ours - torch\| = (\S+)", stdout).group(1))
    assert gap < 1e-12
    expected = from_torch(one_process_oracle(import_example("outgrow_distributed")))
    with np.load(folder / "outgrow_distributed.npz") as saved:
        assert sorted(saved.files) == sorted(expected.state_dict())
        for name, weights in expected.state_dict().items():
            # Equal in practice, bit for bit; 1e-10 leaves room for another summation
            # order of the two gradients (1e-16 per step), far below a wrong step.
            np.testing.assert_allclose(saved[name], weights, rtol=0, atol=1e-10, err_msg=name)


def check_curvature_numbers(stdout, folder):
    """Newton's iterates are the closed form's; J below 1/2 on each sphere falls like r^4
    (its ratio to r^4 within 20% across radii, where r^3 would change it 4-fold); each
    learning rate's error factor is |1 - alpha lambda_max| = 0.96 and 1.04."""
    x, iterates = 2.0, re.findall(r"^\s+\d\s+(\d\.\d+)", stdout, re.MULTILINE)
    for printed in iterates[1:]:
        x -= (4 * x**3 - 4 * x) / (12 * x**2 - 4)
        assert float(printed) == pytest.approx(x, abs=1e-15)
    assert len(iterates) == 8
    rows = re.findall(r"^\s+(0\.\d+)\s+(-\d\.\d+e-\d+)\s+(-\d\.\d+e-\d+)$", stdout, re.M)
    assert len(rows) >= 3
    ratios = [float(drop) / float(r) ** 4 for r, drop, _ in rows]
    assert max(ratios) / min(ratios) < 1.2
    assert float(rows[0][1]) == pytest.approx(-6.4e-4, rel=0.01)  # at r = 0.8
    assert re.findall(r"times (\d\.\d+) per step", stdout) == ["0.960000", "1.040000"]


EXTRA_CHECKS = {
    "curvature.py": check_curvature_numbers,
    "learning_rates.py": check_learning_rates_table,
    "local_minima.py": check_local_minima_table,
    "outgrow_distributed.py": check_outgrow_distributed,
}


def run_example(script, folder):
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    command = [sys.executable, str(EXAMPLES / script), "--fast", "--out", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, env=env, timeout=120)


def test_every_example_is_covered():
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - HELPERS
    assert sorted(scripts) == sorted(PROMISES)


def test_every_script_imports_its_options_from_common_and_nothing_from_the_cli():
    for script in PROMISES:
        source = (EXAMPLES / script).read_text()
        assert "from common import example_options" in source, script
        assert "tinygrad_bp.cli" not in source, script


def test_example_options_parse_fast_and_out_and_create_the_folder(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from common import example_options

    out = tmp_path / "new" / "plots"
    options = example_options("demo", ["--fast", "--out", str(out)])
    assert options.fast is True and options.out == out and out.is_dir()
    monkeypatch.chdir(tmp_path)
    defaults = example_options("demo", [])
    assert defaults.fast is False and defaults.out == Path("out") and (tmp_path / "out").is_dir()


@pytest.mark.parametrize("script", sorted(PROMISES))
def test_example_runs_and_keeps_its_promises(script, tmp_path):
    if script in NEEDS:
        module, install = NEEDS[script]
        pytest.importorskip(module, reason=f"{script} needs {module}: {install}")
    result = run_example(script, tmp_path)
    assert result.returncode == 0, result.stderr
    facts, pictures = PROMISES[script]
    for fact in facts:
        assert fact in result.stdout, fact
    for picture in pictures:
        data = (tmp_path / picture).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 1000, picture
    assert (EXAMPLES / script).read_text().startswith('"""'), "the docstring names the claim"
    if script in EXTRA_CHECKS:
        EXTRA_CHECKS[script](result.stdout, tmp_path)


def test_outgrow_distributed_without_torch_says_how_to_install_it(tmp_path):
    fake = tmp_path / "no_torch" / "torch"  # an importable "torch" that fails like a missing one
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named torch")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), str(REPO)])}
    command = [sys.executable, str(EXAMPLES / "outgrow_distributed.py"), "--fast"]
    command += ["--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert 'pip install -e ".[interop]"' in result.stderr
    assert "download.pytorch.org/whl/cpu" in result.stderr


@pytest.mark.parametrize("script", sorted(PROMISES))
def test_without_matplotlib_an_example_says_so_before_any_work(script, tmp_path):
    fake = tmp_path / "no_matplotlib" / "matplotlib"  # importable, failing like a missing one
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named matplotlib")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), str(REPO)])}
    command = [sys.executable, str(EXAMPLES / script), "--fast", "--out", str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and result.stdout == ""  # nothing trained, nothing printed
    assert result.stderr.splitlines() == [
        f"{script} needs matplotlib for its plots: pip install matplotlib (in a clone: "
        f'pip install -e ".[plot]")'
    ]
    assert not (tmp_path / "out").exists()


def test_digits_reaches_95_percent_test_accuracy():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    X, labels = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1437], order[1437:]

    net = tensor_mlp([64, 64, 10], "relu", output_activation="linear", rng=0)
    optimizer = Adam(net.parameters(), 0.01)
    fit(
        net,
        X[train],
        labels[train],
        loss=cross_entropy,
        optimizer=optimizer,
        epochs=8,
        batch_size=32,
        shuffle=True,
        rng=0,
        progress=False,
    )
    with no_grad():
        predicted = net(X[test]).data.argmax(axis=1)
    assert np.mean(predicted == labels[test]) >= 0.95

"""Tests for tinygrad_bp.data: shapes, determinism, value ranges and labels."""

import numpy as np
import pytest

from tinygrad_bp import data

RANDOM_SETS = {
    "moons": (data.moons, 2),
    "circles": (data.circles, 2),
    "spirals": (data.spirals, 2),
    "sine": (data.sine, 1),
}
CLASSIFICATION_SETS = ["moons", "circles", "spirals"]


@pytest.mark.parametrize("name", sorted(RANDOM_SETS))
@pytest.mark.parametrize("n", [7, 100])
def test_shapes_and_dtypes(name, n):
    maker, width = RANDOM_SETS[name]
    X, y = maker(n)
    assert X.shape == (n, width) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize("name", sorted(RANDOM_SETS))
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(name):
    maker, _ = RANDOM_SETS[name]
    first, again, other = maker(50, rng=4), maker(50, rng=4), maker(50, rng=5)
    from_generator = maker(50, rng=np.random.default_rng(4))
    for one, two in [(first, again), (first, from_generator)]:
        np.testing.assert_array_equal(one[0], two[0])
        np.testing.assert_array_equal(one[1], two[1])
    assert not np.array_equal(first[0], other[0])
    np.testing.assert_array_equal(maker(50)[0], maker(50)[0])  # default seed


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_labels_are_zero_then_one_split_in_halves(name):
    X, y = RANDOM_SETS[name][0](11)
    assert set(y.tolist()) == {0.0, 1.0}
    assert y.tolist() == [0.0] * 5 + [1.0] * 6


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_two_classes_need_two_points(name):
    with pytest.raises(ValueError, match="n must be at least 2, got 1"):
        RANDOM_SETS[name][0](1)


def test_sine_needs_one_point():
    assert data.sine(1)[0].shape == (1, 1)
    with pytest.raises(ValueError, match="n must be at least 1, got 0"):
        data.sine(0)


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_noise_must_be_non_negative(name):
    with pytest.raises(ValueError, match="noise must be non-negative, got -0.1"):
        RANDOM_SETS[name][0](10, noise=-0.1)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = data.moons(40, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(*(lower - [1.0, 0.5]).T), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_noise_moves_the_points_by_about_its_standard_deviation():
    clean, _ = data.moons(2000, noise=0.0)
    noisy, _ = data.moons(2000, noise=0.1, rng=0)
    assert np.std(noisy - clean) == pytest.approx(0.1, rel=0.1)


def test_circles_without_noise_have_radii_one_and_factor():
    X, y = data.circles(30, noise=0.0, factor=0.3)
    radii = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radii[y == 0], 1.0)
    np.testing.assert_allclose(radii[y == 1], 0.3)


@pytest.mark.parametrize("factor", [0.0, 1.0, 1.5, -0.2])
def test_circles_factor_must_be_strictly_between_zero_and_one(factor):
    with pytest.raises(ValueError, match="factor must be strictly between 0 and 1"):
        data.circles(10, factor=factor)


def test_spirals_without_noise_are_two_opposite_arms_inside_the_unit_disc():
    X, y = data.spirals(40, noise=0.0)
    radii = np.hypot(X[:, 0], X[:, 1])
    assert radii.max() == pytest.approx(1.0) and radii.min() == pytest.approx(0.0)
    np.testing.assert_allclose(X[y == 0], -X[y == 1], atol=1e-12)
    assert (np.diff(radii[y == 0]) > 0).all()  # each arm winds outwards


def test_sine_samples_the_scaled_sine_on_minus_pi_to_pi():
    X, y = data.sine(500, rng=2)
    x = X[:, 0]
    assert (x >= -np.pi).all() and (x <= np.pi).all()
    assert (np.diff(x) >= 0).all()
    assert x.min() < -3.0 and x.max() > 3.0
    assert (y >= 0.0).all() and (y <= 1.0).all()
    np.testing.assert_allclose(y, (1.0 + np.sin(x)) / 2.0)


def test_gates_are_the_truth_tables():
    tables = data.gates()
    assert set(tables) == {"AND", "OR", "NAND", "NOR", "XOR", "NOT"}
    for name in ["AND", "OR", "NAND", "NOR", "XOR"]:
        X, y = tables[name]
        assert X.shape == (4, 2) and y.shape == (4,) and X.dtype == np.float64
        assert sorted(map(tuple, X.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
        a, b = X.T == 1.0
        truth = {"AND": a & b, "OR": a | b, "NAND": ~(a & b), "NOR": ~(a | b), "XOR": a ^ b}
        np.testing.assert_array_equal(y, truth[name].astype(np.float64))
    X, y = tables["NOT"]
    assert X.tolist() == [[0.0], [1.0]] and y.tolist() == [1.0, 0.0]


def test_gates_and_xor_give_fresh_arrays():
    X, y = data.gates()["AND"]
    X[:] = 7.0
    y[:] = 7.0
    assert data.gates()["AND"][1].tolist() == [0.0, 0.0, 0.0, 1.0]
    X, _ = data.xor()
    X[:] = 7.0
    assert data.xor()[0].max() == 1.0


def test_xor_is_the_xor_gate():
    X, y = data.xor()
    assert X.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("name", sorted(RANDOM_SETS))
def test_load_passes_its_arguments_on(name):
    maker, _ = RANDOM_SETS[name]
    X, y = data.load(name.upper(), n=12, rng=9)
    np.testing.assert_array_equal(X, maker(12, rng=9)[0])
    np.testing.assert_array_equal(y, maker(12, rng=9)[1])


@pytest.mark.parametrize("name", ["and", "Or", "NAND", "nor", "not", "xor"])
def test_load_knows_the_gates(name):
    X, y = data.load(name)
    np.testing.assert_array_equal(y, data.gates()[name.upper()][1])
    assert X.shape[0] == y.shape[0]


def test_load_rejects_an_unknown_name_listing_the_valid_ones():
    with pytest.raises(ValueError, match="unknown data set 'iris'") as error:
        data.load("iris")
    for name in ["xor", "moons", "circles", "spirals", "sine", "and", "or", "nand", "nor", "not"]:
        assert name in str(error.value)


@pytest.mark.parametrize("name", ["and", "xor"])
def test_load_ignores_n_and_rng_for_a_fixed_table_and_refuses_the_rest(name):
    X, y = data.load(name, n=3, rng=7)
    np.testing.assert_array_equal(X, data.gates()[name.upper()][0])
    np.testing.assert_array_equal(y, data.gates()[name.upper()][1])
    with pytest.raises(TypeError, match=r"takes no arguments .*\['noise'\]"):
        data.load(name, n=3, noise=0.1)


@pytest.mark.parametrize("name", data.DATASETS)
def test_every_training_set_loads_by_name_with_n_and_rng(name):
    X, y = data.load(name, n=12, rng=1)
    assert X.ndim == 2 and y.shape == (len(X),)
    assert len(X) == (4 if name == "xor" else 12)


def test_spirals_at_their_default_noise_keep_the_arms_apart():
    # The arms of the two classes alternate every 1/3 of the radius along any ray; at the
    # default noise the nearest point of each point is nearly always of its own class.
    X, y = data.spirals(400, rng=0)
    distances = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    assert np.mean(y[nearest] == y) > 0.95

"""nn.save and nn.load against failures and hostile files (issue 12): temporary files,
errors that name the user's path, headers checked before any data is read, bounded memory."""

import copy
import io
import os
import pickle
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy

from tinygrad_bp import Value, nn
from tinygrad_bp.nn import MLP, Linear, Sequential, load, save, tensor_mlp

MB = 1 << 20


def npy_bytes(shape, descr="<f8", data=b"", version=(1, 0)):
    """A .npy member: the header numpy writes for ``shape``/``descr``, then ``data`` as is."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    write_header = npy.write_array_header_1_0 if version == (1, 0) else npy.write_array_header_2_0
    write_header(buffer, header)
    return buffer.getvalue() + data


def write_npz(path, members, compression=zipfile.ZIP_STORED):
    """An archive holding ``members`` (name -> bytes), names as given."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def parameters_of(model):
    return [np.array(p.data, dtype=np.float64, copy=True) for p in model.parameters()]


def assert_unchanged(model, before):
    for now, then in zip(parameters_of(model), before, strict=True):
        np.testing.assert_array_equal(now, then)


@pytest.fixture
def no_pickle(monkeypatch):
    """Fail the test if anything unpickles."""

    def refuse(*args, **kwargs):
        raise AssertionError("pickle ran")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


# -- load: valid files in every layout numpy writes -----------------------------------------


@pytest.mark.parametrize("writer", [np.savez, np.savez_compressed])
def test_load_reads_what_numpy_writes_stored_or_compressed(tmp_path, writer):
    source = tensor_mlp([3, 4, 2], rng=0)
    path = tmp_path / "net.npz"
    writer(path, **source.state_dict())
    target = tensor_mlp([3, 4, 2], rng=1)
    load(target, path)
    for ours, theirs in zip(parameters_of(target), parameters_of(source)):
        np.testing.assert_array_equal(ours, theirs)


def test_load_reads_big_endian_fortran_order_and_version_2_headers(tmp_path):
    weight = np.arange(6.0).reshape(2, 3)
    fortran = np.asfortranarray(weight.astype(">f4"))
    members = {}
    bias = np.array([1.0, 2.0, 3.0], ">f8")
    for name, array in {"layers.0.weight": fortran, "layers.0.bias": bias}.items():
        buffer = io.BytesIO()
        npy.write_array(buffer, array, version=(2, 0))
        members[f"{name}.npy"] = buffer.getvalue()
    path = write_npz(tmp_path / "net.npz", members)
    net = Sequential(Linear(2, 3, rng=0))
    load(net, path)
    np.testing.assert_array_equal(net.layers[0].weight.data, weight)
    np.testing.assert_array_equal(net.layers[0].bias.data, [1.0, 2.0, 3.0])


# -- load: hostile headers and bombs ----------------------------------------------------------


def test_a_header_claiming_1e11_elements_is_refused_from_the_header(tmp_path):
    net = Sequential(Linear(2, 2, rng=0))
    members = {
        "layers.0.weight.npy": npy_bytes((10**11,), data=b"\0" * 64),
        "layers.0.bias.npy": npy_bytes((2,), data=b"\0" * 16),
    }
    path = write_npz(tmp_path / "claim.npz", members)
    assert path.stat().st_size < 1000
    before = parameters_of(net)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as error:
            load(net, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "'layers.0.weight' has shape (100000000000,), expected (2, 2)" in str(error.value)
    assert "claim.npz" in str(error.value)
    assert peak < 2 * MB
    assert_unchanged(net, before)


def deflate_bomb(path, header, megabytes):
    """An archive whose one member is ``header`` then ``megabytes`` MB of deflated zeros."""
    chunk = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("weight.npy", "w", force_zip64=True) as member:
            member.write(header)
            for _ in range(megabytes):
                member.write(chunk)
    return path


@pytest.mark.parametrize(
    "header, message",
    [
        (npy_bytes((2,)), "not hold exactly the 16 bytes its header says"),  # data after it
        (npy_bytes((4 * MB,)), "has shape (4194304,), expected (2,)"),  # a true, huge claim
        (b"\x93NUMPY\x02\x00\xff\xff\xff\xff", "more than 10,000"),  # a 4 GB header
    ],
)
def test_a_compressed_bomb_is_read_no_further_than_the_model_needs(tmp_path, header, message):
    neuron = nn.Neuron(2, rng=0)  # state: weight (2,), bias ()
    neuron_state = {"bias.npy": npy_bytes((), data=np.float64(1.0).tobytes())}
    path = deflate_bomb(tmp_path / "bomb.npz", header, megabytes=64)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bias.npy", neuron_state["bias.npy"])
    assert path.stat().st_size < MB  # 64 MB of zeros inside
    before = parameters_of(neuron)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="bomb.npz") as error:
            load(neuron, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message in str(error.value)
    assert peak < 2 * MB  # the model is 24 bytes; the archive's directory and zlib's buffers
    assert_unchanged(neuron, before)


@pytest.mark.parametrize(
    "members, message",
    [
        ({"weight.npy": npy_bytes((2,), "<U1", b"ab" * 4)}, "'weight' has non-numeric dtype <U1"),
        ({"weight.npy": npy_bytes((2,), "|O", b"junk")}, "'weight' has non-numeric dtype object"),
        ({"weight.npy": npy_bytes((2,), "<c16", bytes(32))}, "non-numeric dtype complex128"),
        ({"weight.npy": npy_bytes((2,), [("a", "<f8")], bytes(16))}, "non-numeric dtype"),
        ({"weight.npy": npy_bytes((2,), data=bytes(8))}, "does not hold exactly the 16 bytes"),
        ({"weight.npy": b"\x93NUMPY\x03\x00" + bytes(8)}, "unsupported .npy format version"),
        ({"weight.npy": b"not a numpy file at all"}, "magic string is not correct"),
        ({"weight": npy_bytes((2,), data=bytes(16))}, "member 'weight' is not a .npy array"),
        ({"weight.npy": b"\x93NUMPY\x01\x00\x10\x27" + b"-" * 9999 + b"1"}, "nests too deeply"),
    ],
)
def test_non_numeric_or_malformed_members_raise_value_error_and_never_unpickle(
    tmp_path, no_pickle, members, message
):
    neuron = nn.Neuron(2, rng=0)
    members = {"bias.npy": npy_bytes((), data=bytes(8)), **members}
    path = write_npz(tmp_path / "hostile.npz", members)
    before = parameters_of(neuron)
    with pytest.raises(ValueError, match="hostile.npz") as error:
        load(neuron, path)
    assert message in str(error.value)
    assert_unchanged(neuron, before)


def test_an_object_array_saved_by_numpy_is_refused_without_unpickling(tmp_path, no_pickle):
    path = tmp_path / "pickled.npz"
    np.savez(path, weight=np.array([None, 1], dtype=object), bias=np.array(0.0))
    with pytest.raises(ValueError, match="non-numeric dtype object"):
        load(nn.Neuron(2, rng=0), path)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compression_methods_numpy_never_writes_are_refused_unread(tmp_path, method):
    neuron = nn.Neuron(2, rng=0)
    members = {
        "weight.npy": npy_bytes((2,), data=bytes(16)),
        "bias.npy": npy_bytes((), data=bytes(8)),
    }
    path = write_npz(tmp_path / "other.npz", members, compression=method)
    with pytest.raises(ValueError, match=f"uses compression method {method}"):
        load(neuron, path)


def test_an_encrypted_member_and_a_duplicate_name_are_listed(tmp_path):
    neuron = nn.Neuron(2, rng=0)
    path = save(neuron, tmp_path / "net.npz")
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the last member's central directory entry
    data[central + 8] |= 0x1  # its "encrypted" flag
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is encrypted"):
        load(neuron, path)
    with zipfile.ZipFile(tmp_path / "twice.npz", "w") as archive, pytest.warns(UserWarning):
        for _ in range(2):
            archive.writestr("weight.npy", npy_bytes((2,), data=bytes(16)))
    with pytest.raises(ValueError, match="'weight' appears twice"):
        load(neuron, tmp_path / "twice.npz")


def test_every_name_and_shape_problem_is_listed_in_one_value_error(tmp_path):
    net = tensor_mlp([2, 3, 1], rng=0)
    members = {
        "layers.0.weight.npy": npy_bytes((3, 2), data=bytes(48)),
        "layers.0.bias.npy": b"junk",
        "layers.9.weight.npy": npy_bytes((1,), data=bytes(8)),
        "layers.2.weight.npy": npy_bytes((3, 1), "<U1", bytes(12)),
    }
    before = parameters_of(net)
    with pytest.raises(ValueError) as error:
        load(net, write_npz(tmp_path / "bad.npz", members))
    message = str(error.value)
    for problem in (
        "'layers.0.weight' has shape (3, 2), expected (2, 3)",
        "'layers.0.bias': EOF: reading magic string",
        "missing 'layers.2.bias'",
        "unexpected 'layers.9.weight'",
        "'layers.2.weight' has non-numeric dtype <U1",
    ):
        assert problem in message
    assert_unchanged(net, before)


def test_a_member_whose_header_changes_between_check_and_read_is_refused(tmp_path, monkeypatch):
    from tinygrad_bp.nn import state

    neuron = nn.Neuron(2, rng=0)
    path = save(nn.Neuron(2, rng=1), tmp_path / "net.npz")
    calls = []
    checked_header = state._header

    def header_then_another(stream):  # as if another process rewrote the file meanwhile
        calls.append(stream)
        (info, fortran_order) = checked_header(stream)
        return (info, not fortran_order) if len(calls) > 2 else (info, fortran_order)

    monkeypatch.setattr(state, "_header", header_then_another)
    before = parameters_of(neuron)
    with pytest.raises(ValueError, match="changed while it was being read"):
        load(neuron, path)
    assert_unchanged(neuron, before)


def test_load_raises_os_error_for_a_file_it_cannot_read(tmp_path):
    net = MLP(2, [1], rng=0)
    with pytest.raises(FileNotFoundError):
        load(net, tmp_path / "absent.npz")
    with pytest.raises(IsADirectoryError):
        load(net, tmp_path)
    with pytest.raises(TypeError, match="needs a tinygrad_bp.nn module, got dict"):
        load({}, tmp_path / "absent.npz")


# -- load: the bit-flip fuzz ------------------------------------------------------------------


def _saved(writer, model):
    buffer = io.BytesIO()
    writer(buffer, **model.state_dict())
    return buffer.getvalue()


MODELS = [
    MLP(2, [2, 1], rng=0),
    tensor_mlp([3, 2, 1], rng=1),
    Sequential(Linear(2, 2, dtype=np.float32)),
]
ARCHIVES = [
    (model, _saved(writer, model)) for model in MODELS for writer in (np.savez, np.savez_compressed)
]


@st.composite
def damaged_archives(draw):
    """A valid archive of one of MODELS with bits flipped, bytes overwritten, cut or spliced."""
    model, blob = draw(st.sampled_from(ARCHIVES))
    data = bytearray(blob)
    position = st.integers(0, len(data) - 1)
    kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "delete"]))
    if kind == "flip":
        for index, bit in draw(
            st.lists(st.tuples(position, st.integers(0, 7)), min_size=1, max_size=3)
        ):
            data[index] ^= 1 << bit
    elif kind == "overwrite":
        for index, byte in draw(
            st.lists(st.tuples(position, st.integers(0, 255)), min_size=1, max_size=4)
        ):
            data[index] = byte
    elif kind == "truncate":
        data = data[: draw(position)]
    elif kind == "insert":
        index = draw(position)
        data[index:index] = draw(st.binary(min_size=1, max_size=8))
    else:
        index = draw(position)
        del data[index : index + draw(st.integers(1, 8))]
    return model, bytes(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damaged_archives())
def test_a_damaged_archive_raises_os_or_value_error_and_changes_nothing(tmp_path, damaged):
    model, data = damaged
    path = tmp_path / "damaged.npz"
    path.write_bytes(data)
    target = copy.deepcopy(model)
    for p in target.parameters():  # values no valid archive holds
        if isinstance(p, Value):
            p.data = 7.0
        else:
            p.data[...] = 7.0
    before = parameters_of(target)
    try:
        load(target, path)
    except (OSError, ValueError):
        assert_unchanged(target, before)
    else:  # the damage missed everything the CRC-32 and our checks guard: the values are intact
        for ours, saved in zip(parameters_of(target), parameters_of(model), strict=True):
            np.testing.assert_array_equal(ours, saved)


HEADER_TEXT = "{}()[],:'\" 0123456789<>|=fiucbOUSVxeE.TrueFalsedescrshapefortran_order\\\n\t#-+jL"


def _members(blob):
    """An archive's members (name -> bytes) and its compression method."""
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        return {info.filename: archive.read(info) for info in infos}, infos[0].compress_type


def _edited_header(draw, data):
    """``data``, a .npy member, with characters of its header replaced, removed or inserted."""
    data = bytearray(data)
    end = npy.MAGIC_LEN + 2 + int.from_bytes(data[8:10], "little")  # save writes version 1.0
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(npy.MAGIC_LEN + 2, min(end, len(data)) - 1))
        character = draw(st.sampled_from(HEADER_TEXT)).encode()
        kind = draw(st.sampled_from(["replace", "remove", "insert"]))
        if kind == "replace":
            data[index : index + 1] = character
        elif kind == "remove":
            del data[index]
        else:
            data[index:index] = character
    return bytes(data)


@st.composite
def header_edited_archives(draw):
    """A valid archive whose .npy headers have had their text edited, CRC-32s intact.

    The archive is written again, so only the header parser sees the damage
    (numpy's own reader raised tokenize.TokenError, SyntaxError and TypeError on
    such headers).
    """
    model, blob = draw(st.sampled_from(ARCHIVES))
    members, compression = _members(blob)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, _edited_header(draw, data))
    return model, buffer.getvalue()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header_edited_archives())
def test_an_archive_with_edited_header_text_raises_value_error_and_changes_nothing(
    tmp_path, damaged
):
    model, data = damaged
    path = tmp_path / "edited.npz"
    path.write_bytes(data)
    target = copy.deepcopy(model)
    before = parameters_of(target)
    try:
        load(target, path)
    except ValueError:
        assert_unchanged(target, before)
    else:  # an edit that reads the same (a space, say): the saved values arrive
        for ours, saved in zip(parameters_of(target), parameters_of(model), strict=True):
            np.testing.assert_array_equal(ours, saved)


@pytest.mark.parametrize(
    "header, message",
    [
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,", "not a dict literal"),
        ("{'descr': ',', 'fortran_order': False, 'shape': (2, 1), }", "dtype is not one"),
        ("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 1), }", "fortran_order"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1), }", "shape"),
        ("{'descr': '<f8', 'fortran_order': False}", "does not hold"),
        ('"""', "not a dict literal"),
        ("{'descr': '\\o<f8', 'fortran_order': False, 'shape': (2, 1), }", "backslash"),
    ],
)
def test_a_malformed_header_is_one_value_error_naming_it(tmp_path, header, message):
    text = header.encode("latin1")
    member = npy.MAGIC_PREFIX + bytes([1, 0]) + len(text).to_bytes(2, "little") + text
    path = write_npz(tmp_path / "bad.npz", {"weight.npy": member})
    with pytest.raises(ValueError, match=message):
        load(Linear(1, 2), path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_load_refuses_a_fifo_and_a_device_at_once(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(ValueError, match="is not a regular file"):
            load(MLP(2, [1], rng=0), path)


def test_load_refuses_a_file_larger_than_any_archive_of_the_model(tmp_path):
    path = tmp_path / "big.npz"
    with open(path, "wb") as file:
        file.truncate(10_000_000)  # sparse: no disk used
    with pytest.raises(ValueError, match="more than the limit"):
        load(Linear(1, 1), path)


# -- save: temporary files and the user's path ------------------------------------------------


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_a_failing_save_removes_its_temporary_file_and_names_the_users_path(tmp_path, monkeypatch):
    net = MLP(2, [1], rng=0)
    path = save(net, tmp_path / "net.npz")
    original = path.read_bytes()

    def crash_midway(file, **arrays):
        file.write(b"half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", crash_midway)
    with pytest.raises(OSError) as error:
        save(MLP(2, [1], rng=5), path)
    assert error.value.errno == 28 and error.value.filename == str(path)
    assert ".tmp-" not in str(error.value)
    assert path.read_bytes() == original and temporaries(tmp_path) == []

    def interrupted(file, **arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(net, path)
    assert temporaries(tmp_path) == []


def test_a_save_into_a_missing_folder_names_the_users_path(tmp_path):
    target = tmp_path / "no" / "such" / "net.npz"
    with pytest.raises(FileNotFoundError) as error:
        save(MLP(2, [1], rng=0), target)
    assert error.value.filename == str(target)


def test_a_failing_rename_names_the_users_path_and_leaves_nothing(tmp_path):
    target = tmp_path / "net.npz"
    target.mkdir()  # a directory in the way: the rename fails
    with pytest.raises(IsADirectoryError) as error:
        save(MLP(2, [1], rng=0), target)
    assert error.value.filename == str(target)
    assert temporaries(tmp_path) == []


# Linux pids stop at 2**22 (PID_MAX_LIMIT), other systems' lower: no process has this one.
NO_SUCH_PID = 2**22 + 1


def test_a_later_save_removes_what_a_killed_save_left(tmp_path):
    path = tmp_path / "net.npz"
    killed = tmp_path / f".net.npz.tmp-{NO_SUCH_PID}-abc123"
    killed.write_bytes(b"half an archive")
    running = tmp_path / f".net.npz.tmp-{os.getpid()}-def456"  # a save in progress: kept
    running.write_bytes(b"being written")
    abandoned = tmp_path / f".net.npz.tmp-{os.getpid()}-ghi789"  # running pid, idle an hour
    abandoned.write_bytes(b"stuck")
    hour_ago = time.time() - nn.STALE_AFTER - 60
    os.utime(abandoned, (hour_ago, hour_ago))
    others = [tmp_path / f".other.npz.tmp-{NO_SUCH_PID}-abc123", tmp_path / "net.npz.tmp-1-x"]
    for other in others:  # another target's file, and a name that is not ours
        other.write_bytes(b"")
    save(MLP(2, [1], rng=0), path)
    assert not killed.exists() and not abandoned.exists()
    assert running.exists() and all(other.exists() for other in others)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["net.npz", running.name, *(other.name for other in others)]
    )


SLOW_SAVE = """
import sys, time
from tinygrad_bp.nn import write_atomically

def write(file):
    file.write(b"the first half")
    file.flush()
    print("writing", flush=True)
    time.sleep(600)

write_atomically(sys.argv[1], write)
"""


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="needs POSIX kill")
def test_a_save_killed_mid_write_leaves_a_file_the_next_save_removes(tmp_path):
    path = tmp_path / "net.npz"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.kill()
        child.wait()
    left = temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".net.npz.tmp-{child.pid}-")
    assert not path.exists()
    save(MLP(2, [1], rng=0), path)
    assert temporaries(tmp_path) == [] and path.exists()


def test_only_temporary_files_of_the_exact_target_name_are_removed(tmp_path):
    path = tmp_path / "net@1+(x).npz"  # regex characters in the name
    ours = tmp_path / f".net@1+(x).npz.tmp-{NO_SUCH_PID}-abc123"
    lookalike = tmp_path / f".net@1+xx.npz.tmp-{NO_SUCH_PID}-abc123"
    ours.write_bytes(b"")
    lookalike.write_bytes(b"")
    assert nn.remove_stale_temporaries(path) == [ours]
    assert lookalike.exists()


def test_save_refuses_what_is_not_a_module(tmp_path):
    with pytest.raises(TypeError, match="needs a tinygrad_bp.nn module, got list"):
        save([1.0], tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_])
def test_load_refuses_integer_or_boolean_weights_and_changes_nothing(tmp_path, dtype):
    model = nn.MLP(2, [3, 1], rng=5)
    before = {name: array.copy() for name, array in model.state_dict().items()}
    state = {name: array.astype(dtype) for name, array in before.items()}
    path = tmp_path / "ints.npz"
    np.savez(path, **state)
    with pytest.raises(ValueError, match="not a floating type"):
        nn.load(model, path)
    assert all(np.array_equal(model.state_dict()[name], before[name]) for name in before)

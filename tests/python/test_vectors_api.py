"""embedkit.KeyedVectors on its own: no copies at the boundary, bad input, files (round trips,
missing, truncated and malformed ones), its own save/load format, and the GIL released while
C++ works."""

import math
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import embedkit
from vectors_data import make_vectors, write_binary, write_text


@pytest.fixture
def kv():
    words, vectors = make_vectors(words=200, dim=8)
    return embedkit.KeyedVectors(words, vectors)


def address(array):
    return array.__array_interface__["data"][0]


# --- no copies --------------------------------------------------------------------------------

def test_vectors_is_a_read_only_view_of_embedkits_matrix(kv):
    view = kv.vectors
    # Not a NumPy-owned array: a view over memory a capsule (embedkit's Tensor) keeps alive.
    assert not view.flags.owndata and type(view.base).__name__ == "PyCapsule"
    # Every fresh view the C++ object hands out points at the same buffer: none is a copy.
    assert address(kv._native.matrix) == address(view) == address(kv._native.matrix)
    assert view.dtype == np.float32 and view.shape == (len(kv), kv.vector_size)
    assert view.flags.c_contiguous and not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 1.0
    # Rows come out as views of the same buffer.
    row = kv["x1"]
    assert np.shares_memory(row, view) and address(row) == address(view) + view.strides[0] * 2
    assert np.shares_memory(kv.get_vector("x1", norm=True), kv.get_normed_vectors())
    assert not row.flags.writeable


def test_the_view_outlives_the_keyed_vectors():
    words, vectors = make_vectors(words=100, dim=4)
    kv = embedkit.KeyedVectors(words, vectors)
    view = kv.vectors
    del kv
    np.testing.assert_array_equal(view, vectors)


def test_the_constructor_copies_its_input_once(kv):
    words, vectors = make_vectors(words=50, dim=4)
    kv = embedkit.KeyedVectors(words, vectors)
    vectors[:] = 0.0
    assert not np.shares_memory(kv.vectors, vectors)
    assert np.abs(kv.vectors).sum() > 0
    # float64 and lists are converted to float32, as gensim stores them.
    kv64 = embedkit.KeyedVectors(["a", "b"], [[1.0, 2.0], [3.0, 4.5]])
    assert kv64.vectors.dtype == np.float32
    assert kv64["b"].tolist() == [3.0, 4.5]


def test_gensim_attribute_shapes(kv):
    assert kv.index_to_key[:3] == ["x0", "y0", "x1"]
    assert kv.key_to_index["y0"] == 1 and len(kv.key_to_index) == len(kv) == 200
    assert kv.vector_size == 8
    assert kv.get_index("y0") == 1 and kv.get_index(5) == 5 and kv.get_index("zz", -1) == -1
    assert "y0" in kv and 199 in kv and 200 not in kv and "zz" not in kv
    assert kv[["y0", 3]].shape == (2, 8)
    assert str(kv) == "KeyedVectors<vector_size=8, 200 keys>"
    result = kv.most_similar("x1", topn=3)
    assert len(result) == 3 and all(type(w) is str and type(s) is float for w, s in result)
    assert result == sorted(result, key=lambda t: -t[1])
    assert "x1" not in [w for w, _ in result]
    assert isinstance(kv.similarity("x1", "y1"), float)


def test_pickle_and_deepcopy_rebuild_an_equal_copy(kv):
    import copy
    import pickle
    for other in (pickle.loads(pickle.dumps(kv)), copy.deepcopy(kv)):
        assert other.index_to_key == kv.index_to_key
        assert other.vectors.tobytes() == kv.vectors.tobytes()
        assert not np.shares_memory(other.vectors, kv.vectors)
        assert other.most_similar("x1") == kv.most_similar("x1")


def test_help_shows_real_docstrings():
    for name in ("most_similar", "most_similar_cosmul", "evaluate_word_analogies",
                 "evaluate_word_pairs", "load_word2vec_format", "save", "load", "vectors"):
        doc = getattr(embedkit.KeyedVectors, name).__doc__
        assert doc and len(doc) > 80, name
    assert "gensim" in embedkit.KeyedVectors.__doc__


# --- bad input --------------------------------------------------------------------------------

def test_bad_constructor_input_is_refused():
    with pytest.raises(ValueError, match="2 words but the matrix has 3 rows"):
        embedkit.KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'a' appears twice"):
        embedkit.KeyedVectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="empty word"):
        embedkit.KeyedVectors(["a", ""], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        embedkit.KeyedVectors(["a", "b"], np.array([[0.0, 1.0], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="float32 \\[V, D\\]"):
        embedkit.KeyedVectors(["a", "b"], np.zeros(2))
    with pytest.raises(TypeError):
        embedkit.KeyedVectors([1, 2], np.zeros((2, 2)))


def test_unknown_keys_are_key_errors(kv):
    for call in (lambda: kv["nope"], lambda: kv[["x1", "nope"]], lambda: kv.get_index("nope"),
                 lambda: kv.most_similar("nope"), lambda: kv.most_similar(["x1"], ["nope"]),
                 lambda: kv.most_similar_cosmul(["x1", "y1"], ["nope"]),
                 lambda: kv.similarity("nope", "x1"), lambda: kv.distance("x1", "nope"),
                 lambda: kv.distances("x1", ["nope"]), lambda: kv[200], lambda: kv[-1]):
        with pytest.raises(KeyError):
            call()
    with pytest.raises(KeyError) as info:
        kv["nope"]
    assert info.value.args == ("word 'nope' is not in the vocabulary",)


def test_one_word_and_the_general_query_agree(kv):
    # most_similar("w") asks C++ with the word's row; a weighted list goes through the mean.
    one = kv.most_similar("x3", topn=30)
    general = kv.most_similar([("x3", 2.0)], topn=30)
    assert [w for w, _ in one] == [w for w, _ in general]
    np.testing.assert_allclose([s for _, s in one], [s for _, s in general], atol=1e-6)


def test_bad_query_arguments(kv):
    assert kv.most_similar("x1", topn=0) == [] and kv.most_similar("x1", topn=-1) == []
    with pytest.raises(ValueError, match="restrict_vocab must be >= 0"):
        kv.most_similar("x1", restrict_vocab=-5)
    with pytest.raises(ValueError, match="no input"):
        kv.most_similar()
    with pytest.raises(ValueError, match="no input"):
        kv.most_similar_cosmul(negative=["x1"])
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        kv.most_similar(np.zeros(3, dtype=np.float32))
    # restrict_vocab beyond the vocabulary is the whole vocabulary; 0 and None mean all (gensim).
    assert kv.most_similar("x1", restrict_vocab=10**9) == kv.most_similar("x1")
    assert kv.most_similar("x1", restrict_vocab=0) == kv.most_similar("x1")
    restricted = kv.most_similar("x1", topn=50, restrict_vocab=20)
    assert len(restricted) == 19 and max(kv.get_index(w) for w, _ in restricted) < 20


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_query_vector_is_a_value_error_not_zero_scores(kv, bad):
    # It was normalized to zeros, and every word was returned with similarity 0.
    query = np.ones(8, dtype=np.float32)
    query[3] = bad
    with pytest.raises(ValueError, match="non-finite value at column 3"):
        kv.most_similar(query)
    with pytest.raises(ValueError, match="non-finite value"):
        kv.most_similar(positive=["x1", ("x2", float(bad))])


# --- files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["text", "binary", "glove"])
def test_word2vec_formats_round_trip_bit_for_bit(kv, tmp_path, kind):
    path = tmp_path / "v.out"
    binary, header = kind == "binary", kind != "glove"
    kv.save_word2vec_format(path, binary=binary, write_header=header)
    back = embedkit.KeyedVectors.load_word2vec_format(path, binary=binary, no_header=not header)
    assert back.index_to_key == kv.index_to_key
    assert back.vectors.tobytes() == kv.vectors.tobytes()


def test_load_word2vec_format_reads_files_others_write(tmp_path):
    words, vectors = make_vectors(words=60, dim=5)
    write_text(tmp_path / "a.txt", words, vectors)
    write_binary(tmp_path / "a.bin", words, vectors)
    text = embedkit.KeyedVectors.load_word2vec_format(tmp_path / "a.txt")
    binary = embedkit.KeyedVectors.load_word2vec_format(str(tmp_path / "a.bin"), binary=True)
    for loaded in (text, binary):
        assert loaded.index_to_key == words
        np.testing.assert_array_equal(loaded.vectors, vectors)


def test_limit_and_fvocab(tmp_path):
    words, vectors = make_vectors(words=60, dim=5)
    write_text(tmp_path / "a.txt", words, vectors)
    (tmp_path / "a.vocab").write_text("".join(f"{w} {1000 - i}\n" for i, w in
                                              enumerate(words) if w != "y2"))
    kv = embedkit.KeyedVectors.load_word2vec_format(tmp_path / "a.txt", limit=10,
                                                    fvocab=tmp_path / "a.vocab")
    assert kv.index_to_key == words[:10]
    np.testing.assert_array_equal(kv.vectors, vectors[:10])
    assert kv.get_vecattr("x0", "count") == 1000 and kv.get_vecattr(5, "count") is None
    with pytest.raises(KeyError):
        kv.get_vecattr("x0", "sample_int")


def test_unsupported_loading_options_are_refused(tmp_path):
    path = tmp_path / "a.txt"
    with pytest.raises(ValueError, match="UTF-8"):
        embedkit.KeyedVectors.load_word2vec_format(path, encoding="latin1")
    with pytest.raises(ValueError, match="strict"):
        embedkit.KeyedVectors.load_word2vec_format(path, unicode_errors="ignore")
    with pytest.raises(ValueError, match="float32"):
        embedkit.KeyedVectors.load_word2vec_format(path, datatype=np.float16)
    with pytest.raises(NotImplementedError):
        embedkit.KeyedVectors.load_word2vec_format(path, binary=True, no_header=True)


def test_missing_files_are_file_not_found(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        embedkit.KeyedVectors.load_word2vec_format(missing)
    with pytest.raises(FileNotFoundError):
        embedkit.KeyedVectors.load_word2vec_format(missing, binary=True)
    with pytest.raises(FileNotFoundError):
        embedkit.KeyedVectors.load(tmp_path / "missing.kv")
    with pytest.raises(FileNotFoundError):
        embedkit.KeyedVectors.load(tmp_path / "missing.npy")


def damaged_files(tmp_path, kv):
    """(name, path, binary) of files cut short or malformed."""
    kv.save_word2vec_format(tmp_path / "good.txt")
    kv.save_word2vec_format(tmp_path / "good.bin", binary=True)
    text = (tmp_path / "good.txt").read_bytes()
    binary = (tmp_path / "good.bin").read_bytes()
    lines = text.split(b"\n")
    cases = {
        "text cut inside a value": (text[:-7], False),
        "text cut after a row": (b"\n".join(lines[:-3]) + b"\n", False),
        "text with a bad number": (text.replace(lines[5].split(b" ")[1], b"0.1x", 1), False),
        "text row with a value missing": (text.replace(lines[4], lines[4].rsplit(b" ", 1)[0]),
                                          False),
        "text header too large": (text.replace(lines[0], b"201 8", 1), False),
        "text duplicate word": (text.replace(lines[3].split(b" ")[0] + b" ",
                                             lines[2].split(b" ")[0] + b" ", 1), False),
        "binary cut": (binary[:-10], True),
        "binary header lies": (b"300 8" + binary[binary.index(b"\n"):], True),
        "not a header": (b"hello world\n", False),
        "empty": (b"", True),
    }
    out = []
    for name, (data, is_binary) in cases.items():
        path = tmp_path / (name.replace(" ", "_") + (".bin" if is_binary else ".txt"))
        path.write_bytes(data)
        out.append((name, path, is_binary))
    return out


def test_damaged_files_are_os_errors_and_load_nothing(kv, tmp_path):
    for name, path, binary in damaged_files(tmp_path, kv):
        with pytest.raises(OSError) as info:
            embedkit.KeyedVectors.load_word2vec_format(path, binary=binary)
        assert not isinstance(info.value, FileNotFoundError), name
        assert path.name in str(info.value), (name, str(info.value))


@pytest.mark.parametrize("name", ["vectors.kv", "vectors.safetensors", "vectors.npy"])
def test_save_and_load_round_trip_in_embedkits_formats(kv, tmp_path, name):
    path = tmp_path / name
    kv.save(path)
    back = embedkit.KeyedVectors.load(str(path))
    assert back.index_to_key == kv.index_to_key
    assert back.vectors.tobytes() == kv.vectors.tobytes()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == (["vectors.npy", "vectors.vocab"] if name.endswith(".npy") else [name])
    # A second save replaces the files (atomically; no temporary file is left behind).
    kv.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == written


def mapped_ranges(path):
    """The address ranges of this process's mappings of `path` (/proc/self/maps)."""
    target = os.path.realpath(path)
    out = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == target:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                out.append((start, end))
    return out


@pytest.mark.parametrize("name", ["vectors.kv", "vectors.npy"])
def test_load_with_mmap_r_maps_the_file_and_copies_nothing(kv, tmp_path, name):
    path = tmp_path / name
    kv.save(path)
    mapped = embedkit.KeyedVectors.load(path, mmap="r")
    assert mapped.index_to_key == kv.index_to_key
    assert mapped.vectors.tobytes() == kv.vectors.tobytes()
    assert not mapped.vectors.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        mapped.vectors[0, 0] = 1.0
    # The vectors are the file's pages: the view's first and last bytes lie in a mapping of the
    # file itself, not in a copy.
    view = mapped.vectors
    first = address(view)
    last = first + view.nbytes - 1
    ranges = mapped_ranges(path)
    assert any(start <= first and last < end for start, end in ranges), (hex(first), ranges)
    # The queries read the mapped rows and answer as on the copy read into memory.
    memory = embedkit.KeyedVectors.load(path)
    assert mapped.most_similar("x3", topn=5) == memory.most_similar("x3", topn=5)
    assert mapped.most_similar(positive=["x1", "x2"], negative=["x5"], topn=3) == \
        memory.most_similar(positive=["x1", "x2"], negative=["x5"], topn=3)
    assert mapped.similarity("x1", "x9") == memory.similarity("x1", "x9")
    # The mapping lives as long as a view of it does.
    del mapped, memory
    assert view.tobytes() == kv.vectors.tobytes()


def test_a_write_error_on_a_new_output_is_the_os_error_of_its_errno(tmp_path):
    # A new output path does not exist yet, so a write error on it (a full disk, EFBIG here
    # under a file-size limit) was raised as FileNotFoundError. In a child process, which the
    # limit does not outlive.
    code = textwrap.dedent(f"""
        import errno, resource, signal
        import numpy as np, embedkit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        kv = embedkit.KeyedVectors([f"w{{i}}" for i in range(100)], np.ones((100, 8), np.float32))
        try:
            kv.save_word2vec_format({str(tmp_path / "v.txt")!r})
        except OSError as e:
            print(type(e).__name__, e.errno == errno.EFBIG, "cannot write temporary file" in str(e))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["OSError", "True", "True"], done.stdout + done.stderr
    assert os.listdir(tmp_path) == []


def test_load_with_a_writing_mmap_mode_is_refused(kv, tmp_path):
    path = tmp_path / "v.kv"
    kv.save(path)
    before = path.read_bytes()
    for mode in ["r+", "c", "w+", "readonly"]:
        with pytest.raises(ValueError, match="only 'r'"):
            embedkit.KeyedVectors.load(path, mmap=mode)
    assert path.read_bytes() == before


def test_mmap_r_refuses_a_mixed_pair_and_a_truncated_file(tmp_path):
    words, vectors = make_vectors(words=30, dim=4)
    embedkit.KeyedVectors(words, vectors).save(tmp_path / "a.npy")
    embedkit.KeyedVectors(words, vectors * 2).save(tmp_path / "b.npy")
    os.replace(tmp_path / "b.npy", tmp_path / "a.npy")  # a's words, b's matrix: same shape
    with pytest.raises(OSError, match="a.vocab"):
        embedkit.KeyedVectors.load(tmp_path / "a.npy", mmap="r")
    embedkit.KeyedVectors(words, vectors).save(tmp_path / "t.kv")
    data = (tmp_path / "t.kv").read_bytes()
    (tmp_path / "t.kv").write_bytes(data[: len(data) - 5])
    with pytest.raises(OSError, match="t.kv"):
        embedkit.KeyedVectors.load(tmp_path / "t.kv", mmap="r")


def test_a_npy_pair_from_two_saves_is_refused(tmp_path):
    words, vectors = make_vectors(words=30, dim=4)
    embedkit.KeyedVectors(words, vectors).save(tmp_path / "a.npy")
    embedkit.KeyedVectors(words, vectors * 2).save(tmp_path / "b.npy")
    os.replace(tmp_path / "b.npy", tmp_path / "a.npy")  # a's words, b's matrix
    with pytest.raises(OSError, match="a.vocab"):
        embedkit.KeyedVectors.load(tmp_path / "a.npy")


def test_a_truncated_safetensors_file_is_refused(kv, tmp_path):
    path = tmp_path / "v.kv"
    kv.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(OSError, match="v.kv"):
        embedkit.KeyedVectors.load(path)


def test_a_failed_save_leaves_the_old_file(kv, tmp_path):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    before = path.read_bytes()
    bad = embedkit.KeyedVectors(["has space", "ok"], np.ones((2, 8)))
    with pytest.raises(ValueError, match="whitespace"):
        bad.save_word2vec_format(path)
    assert path.read_bytes() == before
    with pytest.raises(NotImplementedError):
        kv.save_word2vec_format(path, fvocab=tmp_path / "counts")
    with pytest.raises(ValueError, match="binary"):
        kv.save_word2vec_format(path, binary=True, write_header=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]


# --- the GIL ----------------------------------------------------------------------------------

def python_runs_while(work):
    """Runs work() in a thread and counts how long the main thread kept running Python while the
    thread was inside it: (seconds work() took, seconds the main thread ran during it)."""
    started, done = threading.Event(), threading.Event()
    span = {}

    def worker():
        started.set()
        t0 = time.perf_counter()
        work()
        span["work"] = time.perf_counter() - t0
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    first = last = None
    while not done.is_set():
        now = time.perf_counter()
        first = now if first is None else first
        last = now
    thread.join()
    return span["work"], (last - first) if first is not None else 0.0


def test_queries_and_file_io_release_the_gil(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60000)]
    kv = embedkit.KeyedVectors(words, rng.standard_normal((60000, 64), dtype=np.float32))
    questions = rng.integers(0, 60000, size=(400, 3))

    def analogies():
        kv._native.analogy_rows(questions.astype(np.int64), 5, len(kv))

    took, ran = python_runs_while(analogies)
    # Had the GIL been held, the main thread could not have run while the batch did.
    assert took > 0.05 and ran > 0.5 * took, (took, ran)

    path = tmp_path / "big.txt"
    kv.save_word2vec_format(path)
    took, ran = python_runs_while(lambda: embedkit.KeyedVectors.load_word2vec_format(path))
    assert took > 0.05 and ran > 0.5 * took, (took, ran)


def test_queries_from_many_threads_agree(kv):
    expected = kv.most_similar(["x1", "y2"], ["x2"], topn=20)
    results = [None] * 8

    def query(i):
        results[i] = kv.most_similar(["x1", "y2"], ["x2"], topn=20)

    threads = [threading.Thread(target=query, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)
    assert not any(math.isnan(s) for _, s in expected)

"""Training across MPI processes from Python (comm=; python/embedkit/_mpi.py,
src/dist/word2vec_training.cpp, src/dist/recommender_training.cpp): `mpirun -np P python3
mpi_worker.py CASE` at P = 1, 2 and 3 against the command (`mpirun -np P embedkit train` /
`recommend train`) with the same settings at the same P, and the errors every rank must raise
together, without a hang (each mpirun runs under a timeout).

What is asserted bit for bit is what the command guarantees: word2vec with one thread per rank
is deterministic at a given P (over column shards, the default: the same batches, the scores
summed in rank order; averaged: the same averaging points, the same MPI_Allreduce), so the
module's vectors equal the command's at every P tested; averaged at P = 1 they also equal
training without comm. The recommender (rating objective) equals the one-process model at every P
(docs/distributed.md), so the module's model equals both the command's file and fit() without
comm.

Needs embedkit built with MPI (embedkit.has_mpi), mpi4py (python3-mpi4py) and mpirun
(EMBEDKIT_MPIEXEC, set by tests/python/CMakeLists.txt); skipped without them (mpi4py fails under
EMBEDKIT_REQUIRE_ORACLES=1, as the test oracles do).
"""

import os
import pathlib
import random
import subprocess
import sys

import numpy as np
import pytest

import embedkit
from conftest import oracle

HERE = pathlib.Path(__file__).resolve().parent
TIMEOUT = 180  # seconds per mpirun: a hang fails the test instead of blocking it for ever
# mpi_worker.py's settings, as the command's options.
WORD2VEC_ARGS = ["--dim", "16", "--window", "3", "--negative", "4", "--min-count", "1",
                 "--sample", "0", "--epochs", "4", "--threads", "1", "--seed", "5", "--alpha",
                 "0.025"]
# How mpi_worker.py's word2vec cases train across the ranks, as the command's options.
HOW = {"word2vec": [], "word2vec-average": ["--distribute", "average", "--syncs-per-epoch", "3"]}
RECOMMEND_ARGS = ["--dim", "8", "--epochs", "3", "--batch-size", "64", "--seed", "5",
                  "--test-fraction", "0"]

pytestmark = pytest.mark.skipif(not embedkit.has_mpi, reason="embedkit was built without MPI")


@pytest.fixture(scope="module")
def mpi():
    oracle("mpi4py")
    launcher = os.environ.get("EMBEDKIT_MPIEXEC")
    if not launcher:
        pytest.skip("EMBEDKIT_MPIEXEC (mpirun) is not set")
    return [launcher, os.environ.get("EMBEDKIT_MPIEXEC_NP_FLAG", "-n")], \
        os.environ.get("EMBEDKIT_MPIEXEC_FLAGS", "").split()


def cli():
    path = os.environ.get("EMBEDKIT_CLI")
    if not path:
        pytest.skip("EMBEDKIT_CLI (the embedkit command) is not set")
    return path


def mpirun(mpi, ranks, *command):
    (launcher, np_flag), flags = mpi
    r = subprocess.run([launcher, np_flag, str(ranks), *flags, *map(str, command)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, f"mpirun failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The corpus of tests/dist/word2vec_test.sh's kind (8 topics of 8 words, every sentence
    from one topic) and ratings of recommend_test.sh's kind (60 users x 90 items)."""
    d = tmp_path_factory.mktemp("data")
    rng = random.Random(11)
    with open(d / "corpus.txt", "w", encoding="utf-8") as f:
        for _ in range(3000):
            t = rng.randrange(8)
            f.write(" ".join(f"w{t}_{rng.randrange(8)}" for _ in range(8)) + "\n")
    rng = random.Random(7)
    with open(d / "train.csv", "w", encoding="utf-8") as f:
        f.write("userId,movieId,rating,timestamp\n")
        for k in range(3000):
            f.write(f"{rng.randrange(60)},{rng.randrange(90)},{1 + rng.randrange(9) / 2},"
                    f"{1000 + k}\n")
    return d


def run_case(mpi, data, tmp_path, case, ranks):
    """Runs mpi_worker.py CASE at `ranks` ranks in a fresh directory holding the data; returns
    (directory, [each rank's result (a dict of arrays) or error text])."""
    out = tmp_path / f"{case}-np{ranks}"
    out.mkdir()
    for name in ("corpus.txt", "train.csv"):
        (out / name).symlink_to(data / name)
    mpirun(mpi, ranks, sys.executable, HERE / "mpi_worker.py", case, out)
    results = []
    for r in range(ranks):
        err = out / f"rank{r}.err"
        if err.exists():
            results.append(err.read_text(encoding="utf-8"))
        else:
            with np.load(out / f"rank{r}.npz") as z:
                results.append({k: z[k] for k in z.files})
    return out, results


def read_vectors(path):
    """A word2vec text file (the command's, or save_word2vec_format's): words, float32 rows."""
    with open(path, encoding="utf-8") as f:
        rows, dim = map(int, f.readline().split())
        words, vectors = [], []
        for line in f:
            parts = line.split()
            words.append(parts[0])
            vectors.append([float(x) for x in parts[1:]])
    assert len(words) == rows
    return words, np.array(vectors, dtype=np.float32).reshape(rows, dim)


def assert_same_on_every_rank(results):
    for r in results:
        assert not isinstance(r, str), f"a rank raised: {r}"
    for r in results[1:]:
        assert r.keys() == results[0].keys()
        for k in r:
            assert np.array_equal(r[k], results[0][k]), f"{k} differs between ranks"


@pytest.mark.parametrize("case", ["word2vec", "word2vec-average"])
@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_word2vec_equals_the_command_at_the_same_p(mpi, data, tmp_path, ranks, case):
    out, results = run_case(mpi, data, tmp_path, case, ranks)
    assert_same_on_every_rank(results)
    words, vectors = list(results[0]["words"]), results[0]["vectors"]
    command = tmp_path / "command.txt"
    mpirun(mpi, ranks, cli(), "train", data / "corpus.txt", "-o", command, "--model", "skipgram",
           *WORD2VEC_ARGS, *HOW[case])
    command_words, command_vectors = read_vectors(command)
    assert words == command_words
    assert np.array_equal(vectors, command_vectors)  # shortest round-trip floats: exact
    # Rank 0 alone saved (the script saves there), the same vectors.
    assert sorted(p.name for p in out.glob("model*")) == ["model.txt"]
    saved_words, saved = read_vectors(out / "model.txt")
    assert saved_words == words and np.array_equal(saved, vectors)
    if ranks == 1 and case == "word2vec-average":
        # One rank averaging is training without comm (and the command without mpirun), bit for
        # bit; column shards score a batch of words at once, which training without comm does
        # not.
        from mpi_worker import WORD2VEC
        alone = embedkit.Word2Vec(corpus_file=data / "corpus.txt", **WORD2VEC)
        assert alone.wv.index_to_key == words
        assert np.array_equal(alone.wv.vectors, vectors)


def test_word2vec_is_deterministic_at_two_ranks_and_sentences_equal_the_file(mpi, data,
                                                                             tmp_path):
    _, first = run_case(mpi, data, tmp_path, "word2vec", 2)
    _, again = run_case(mpi, data, tmp_path, "word2vec-sentences", 2)
    assert_same_on_every_rank(again)
    assert list(again[0]["words"]) == list(first[0]["words"])
    assert np.array_equal(again[0]["vectors"], first[0]["vectors"])


def test_fasttext_equals_the_command_at_two_ranks(mpi, data, tmp_path):
    out, results = run_case(mpi, data, tmp_path, "fasttext", 2)
    assert_same_on_every_rank(results)
    mpirun(mpi, 2, cli(), "train", data / "corpus.txt", "-o", tmp_path / "command.bin", "--model",
           "cbow", "--minn", "2", "--maxn", "3", "--buckets", "500", *WORD2VEC_ARGS)
    words, vectors = read_vectors(tmp_path / "command.vec")
    assert list(results[0]["words"]) == words
    assert np.array_equal(results[0]["vectors"], vectors)
    assert sorted(p.name for p in out.glob("model*")) == ["model.bin"]
    # The .bin rank 0 saved holds the same vectors (fastText's model, read back).
    model = embedkit.load_model(str(out / "model.bin"))
    assert np.array_equal(np.stack([model.get_word_vector(w) for w in words]), vectors)


@pytest.fixture(scope="module")
def recommender_alone(data):
    from mpi_worker import RECOMMENDER
    return embedkit.Recommender(**RECOMMENDER).fit_file(data / "train.csv")


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_recommender_equals_the_command_and_one_process(mpi, data, tmp_path, recommender_alone,
                                                        ranks):
    out, results = run_case(mpi, data, tmp_path, "recommender", ranks)
    assert_same_on_every_rank(results)
    alone = recommender_alone
    expected = dict(user_factors=alone.user_factors, item_factors=alone.item_factors,
                    user_biases=alone.user_biases, item_biases=alone.item_biases,
                    global_bias=np.float32(alone.global_bias))
    for k, v in expected.items():
        assert np.array_equal(results[0][k], v), f"{k} differs from fit() without comm"
    command = tmp_path / "command.safetensors"
    mpirun(mpi, ranks, cli(), "recommend", "train", data / "train.csv", "-o", command,
           *RECOMMEND_ARGS)
    assert sorted(p.name for p in out.glob("model*")) == ["model.safetensors"]
    assert (out / "model.safetensors").read_bytes() == command.read_bytes()


def test_recommender_fit_file_equals_fit(mpi, data, tmp_path):
    _, columns = run_case(mpi, data, tmp_path, "recommender", 2)
    _, from_file = run_case(mpi, data, tmp_path, "recommender-file", 2)
    assert_same_on_every_rank(from_file)
    for k in columns[0]:
        assert np.array_equal(from_file[0][k], columns[0][k])


# Errors: each rank's "<type>: <message>" (mpi_worker.py writes them).
def every_rank(text, ranks):
    return [text] * ranks


@pytest.mark.parametrize("ranks", [2, 3])
def test_an_argument_bad_on_one_rank_raises_on_every_rank(mpi, data, tmp_path, ranks):
    _, results = run_case(mpi, data, tmp_path, "bad-argument-on-rank-1", ranks)
    assert results == every_rank("ValueError: rank 1: window must be >= 1, got 0", ranks)
    out, results = run_case(mpi, data, tmp_path, "missing-corpus-on-last-rank", ranks)
    missing = out / "no-such-file.txt"
    assert results == every_rank(f"FileNotFoundError: rank {ranks - 1}: [Errno 2] No such file "
                                 f"or directory: '{missing}'", ranks)


def test_arguments_that_differ_between_ranks_raise_on_every_rank(mpi, data, tmp_path):
    _, results = run_case(mpi, data, tmp_path, "different-arguments", 2)
    assert results == every_rank("ValueError: word2vec: the ranks disagree on dim (from 16 to "
                                 "17); every rank must train on the same corpus with the same "
                                 "options", 2)
    _, results = run_case(mpi, data, tmp_path, "recommender-different-ratings", 2)
    assert all(r.startswith("ValueError: recommender: the ranks disagree on the ratings' XXH64")
               for r in results), results
    _, results = run_case(mpi, data, tmp_path, "recommender-bad-rating-on-rank-1", 2)
    assert results == every_rank("ValueError: rank 1: user id at position 1 is empty", 2)


def test_an_error_during_training_stops_every_rank(mpi, data, tmp_path):
    # word2vec diverging: the lowest failed rank raises its error, the others name it.
    _, results = run_case(mpi, data, tmp_path, "diverging", 2)
    own = [r for r in results if "training diverged" in r]
    assert len(own) == 1 and own[0].startswith("RuntimeError: "), results
    failed = results.index(own[0])
    for r in results:
        assert r in (own[0], f"RuntimeError: rank {failed} failed; training stopped"), results
    # The recommender's callback raising on rank 0 (where it runs) stops every rank.
    _, results = run_case(mpi, data, tmp_path, "recommender-callback-raises", 2)
    assert results == ["KeyError: 'stop at epoch 2'",
                       "RuntimeError: rank 0 failed; training stopped"]


def test_each_way_across_ranks_refuses_the_others_setting(data):
    corpus = data / "corpus.txt"
    with pytest.raises(ValueError, match="syncs_per_epoch sets how often distribute='average'"):
        embedkit.Word2Vec(corpus_file=corpus, syncs_per_epoch=3)
    with pytest.raises(ValueError, match="column_batch_words sizes the batches"):
        embedkit.Word2Vec(corpus_file=corpus, distribute="average", column_batch_words=10)
    with pytest.raises(ValueError, match="distribute must be 'columns' or 'average'"):
        embedkit.FastText(corpus_file=corpus, distribute="rows")
    with pytest.raises(ValueError, match="column_batch_words must be >= 1"):
        embedkit.Word2Vec(corpus_file=corpus, column_batch_words=0)


def test_a_bad_comm_is_a_type_error(mpi, data, tmp_path, monkeypatch):
    _, results = run_case(mpi, data, tmp_path, "bad-comm", 2)
    assert results == every_rank("TypeError: Word2Vec: comm must be an mpi4py communicator "
                                 "(mpi4py.MPI.COMM_WORLD or one made from it), got int", 2)
    # In this process (no mpirun) MPI itself is never initialised: mpi4py's types suffice.
    import mpi4py
    mpi4py.rc.initialize = False
    mpi4py.rc.finalize = False
    corpus = data / "corpus.txt"
    for comm in ("world", 0, object()):
        with pytest.raises(TypeError, match="comm must be an mpi4py communicator"):
            embedkit.Word2Vec(corpus_file=corpus, comm=comm)
        with pytest.raises(TypeError, match="comm must be an mpi4py communicator"):
            embedkit.Recommender().fit([("u", "i", 1.0)], comm=comm)
    from mpi4py import MPI
    with pytest.raises(ValueError, match="COMM_NULL"):
        embedkit.FastText(corpus_file=corpus, comm=MPI.COMM_NULL)
    # A module built without MPI refuses a comm with a clear error (what has_mpi says).
    monkeypatch.setattr(embedkit._embedkit, "has_mpi", False)
    with pytest.raises(RuntimeError, match="built without"):
        embedkit.Recommender().fit_file(data / "train.csv", comm=MPI.COMM_WORLD)

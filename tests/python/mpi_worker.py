"""One rank of the Python MPI tests (test_dist_mpi.py runs it under `mpirun -np P`).

    python3 mpi_worker.py CASE OUT_DIR

Each rank trains (or fails) as CASE says, over mpi4py's COMM_WORLD, and writes what the test
checks into OUT_DIR: rank<r>.npz (the result: word2vec's words and vectors, the recommender's
tables) or rank<r>.err ("<exception type>: <message>" when the call raised), and rank 0 alone
the saved model (model.*, as a user's script saves it). It exits 0 either way: the test reads
the files, and mpirun's status only says that no rank crashed.
"""

import os
import sys

import numpy as np

import embedkit

# The settings test_dist_mpi.py gives the command too (embedkit train / recommend train).
WORD2VEC = dict(vector_size=16, window=3, negative=4, min_count=1, sample=0, epochs=4, workers=1,
                seed=5, min_alpha=None, alpha=0.025, sg=1)
RECOMMENDER = dict(factors=8, iterations=3, batch_size=64, random_state=5)


def main(case, out):
    # Imported here, not above: test_dist_mpi.py imports the settings above, and importing
    # mpi4py.MPI would initialise MPI in the test's process, whose mpirun children would then
    # take it for a rank of their job.
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank = comm.rank
    corpus = os.path.join(out, "corpus.txt")
    ratings = os.path.join(out, "train.csv")
    result = {}
    try:
        if case in ("word2vec", "word2vec-average"):
            how = (dict(distribute="average", syncs_per_epoch=3) if case == "word2vec-average"
                   else {})  # the default: column shards
            m = embedkit.Word2Vec(corpus_file=corpus, **WORD2VEC, **how, comm=comm)
            result = dict(words=np.array(m.wv.index_to_key), vectors=m.wv.vectors)
            if rank == 0:
                m.wv.save_word2vec_format(os.path.join(out, "model.txt"))
        elif case == "word2vec-sentences":
            with open(corpus, encoding="utf-8") as f:
                sentences = [line.split() for line in f]
            m = embedkit.Word2Vec(sentences, **WORD2VEC, comm=comm)
            result = dict(words=np.array(m.wv.index_to_key), vectors=m.wv.vectors)
        elif case == "fasttext":
            m = embedkit.FastText(corpus_file=corpus, **{**WORD2VEC, "sg": 0}, min_n=2, max_n=3,
                                  bucket=500, comm=comm)
            result = dict(words=np.array(m.wv.index_to_key), vectors=m.wv.vectors)
            if rank == 0:
                m.save_facebook_model(os.path.join(out, "model.bin"))
        elif case in ("recommender", "recommender-file"):
            model = embedkit.Recommender(**RECOMMENDER)
            if case == "recommender":
                users, items, values = embedkit._embedkit.Recommender.read_ratings(ratings)
                model.fit({"user": users, "item": items, "rating": values}, comm=comm)
            else:
                model.fit_file(ratings, comm=comm)
            result = dict(user_factors=model.user_factors, item_factors=model.item_factors,
                          user_biases=model.user_biases, item_biases=model.item_biases,
                          global_bias=np.float32(model.global_bias))
            if rank == 0:
                model.save(os.path.join(out, "model.safetensors"))
        # Errors: an argument only one rank gets wrong, arguments that differ between ranks, a
        # diverging run, a progress callback that raises on rank 0, a bad comm.
        elif case == "bad-argument-on-rank-1":
            embedkit.Word2Vec(corpus_file=corpus, **{**WORD2VEC,
                                                     "window": 0 if rank == 1 else 3}, comm=comm)
        elif case == "missing-corpus-on-last-rank":
            path = corpus if rank < comm.size - 1 else os.path.join(out, "no-such-file.txt")
            embedkit.Word2Vec(corpus_file=path, **WORD2VEC, comm=comm)
        elif case == "different-arguments":
            embedkit.Word2Vec(corpus_file=corpus, **{**WORD2VEC, "vector_size": 16 + rank},
                              comm=comm)
        elif case == "diverging":
            embedkit.Word2Vec(corpus_file=corpus, **{**WORD2VEC, "alpha": 1e30}, comm=comm)
        elif case == "recommender-bad-rating-on-rank-1":
            data = [("u1", "i1", 4.0), ("u2", "i2", 3.0), ("u1", "i2", 5.0)]
            if rank == 1:
                data[1] = ("", "i2", 3.0)  # an empty id
            embedkit.Recommender(**RECOMMENDER).fit(data, comm=comm)
        elif case == "recommender-different-ratings":
            data = [("u1", "i1", 4.0), ("u2", "i2", 3.0), ("u1", "i2", 5.0 - rank)]
            embedkit.Recommender(**RECOMMENDER).fit(data, comm=comm)
        elif case == "recommender-callback-raises":
            def callback(epoch, loss, seconds):
                if epoch == 2:
                    raise KeyError("stop at epoch 2")
            embedkit.Recommender(**RECOMMENDER).fit_file(ratings, callback=callback, comm=comm)
        elif case == "bad-comm":
            embedkit.Word2Vec(corpus_file=corpus, **WORD2VEC, comm=comm.py2f())
        else:
            raise SystemExit(f"mpi_worker.py: unknown case {case}")
    except Exception as e:
        with open(os.path.join(out, f"rank{rank}.err"), "w", encoding="utf-8") as f:
            f.write(f"{type(e).__name__}: {e}")
        return
    np.savez(os.path.join(out, f"rank{rank}.npz"), **result)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

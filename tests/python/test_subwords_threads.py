"""embedkit.FastText and train_unsupervised train on Word2Vec's machinery: Ctrl-C (SIGINT)
stops a long training promptly with KeyboardInterrupt, leaving no model file and no temporary
corpus behind."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from subword_corpus import subword_corpus, write_corpus

# Trains on a corpus far too long to finish; prints "training" at the first progress report,
# then writes `out` only if training returns.
SCRIPT = textwrap.dedent("""
    import sys
    import embedkit, embedkit.fasttext
    from subword_corpus import subword_corpus
    corpus, out, api = sys.argv[1:]
    def on_progress(p):
        print("training", flush=True)
    if api == "FastText":
        sentences = (s for _ in range(5) for s in subword_corpus(20000, seed=3))
        model = embedkit.FastText(sentences, vector_size=50, min_count=1, workers=2, epochs=1000,
                                  bucket=10000, progress=on_progress)
        model.save(out)
    else:
        embedkit.fasttext._UnsupervisedProgress.__call__ = lambda self, p: on_progress(p)
        model = embedkit.train_unsupervised(corpus, dim=50, minCount=1, thread=2, epoch=1000,
                                            bucket=10000)
        model.save_model(out)
""")


@pytest.mark.parametrize("api", ["FastText", "train_unsupervised"])
def test_ctrl_c_stops_training_with_keyboard_interrupt(tmp_path, api):
    corpus = write_corpus(tmp_path / "c.txt", subword_corpus(20000, seed=3))
    out = tmp_path / "model.out"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp),
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(corpus), str(out), api],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline() == "training\n", proc.stderr.read()
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        waited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGINT, err
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert waited < 2.0, f"training stopped {waited:.2f} s after SIGINT"
    assert not out.exists()
    assert list(tmp.iterdir()) == [], "the temporary corpus was left behind"

"""The package itself: it imports without torch, and says what it is."""

import subprocess
import sys
import warnings

import embedkit


def test_version_is_the_librarys():
    assert embedkit.__version__.count(".") == 2


def test_copy_warning_is_a_user_warning_that_can_be_filtered():
    assert issubclass(embedkit.CopyWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", embedkit.CopyWarning)
        # filtering by the class works (its module is embedkit)
        assert embedkit.CopyWarning.__module__ == "embedkit"


def test_import_does_not_import_torch():
    code = "import sys, embedkit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

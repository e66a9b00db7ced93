import json
import os
import subprocess
import sys

import pytest

CHILD = """
import json, logging, os
logging.getLogger("tensorflow").setLevel(logging.INFO)  # the user's own choice
import numpy as np
import spe
from spe import CNNLikesRegressor
X, y = np.random.RandomState(0).rand(8, 8, 8, 3), np.arange(8.0)
reg = CNNLikesRegressor(epochs=1, batch_size=4, conv_filters=(2,), dense_units=4, random_state=0)
reg.fit(X, y).predict(X)
level = logging.getLogger("tensorflow").level
print(json.dumps({"env": os.environ.get("TF_CPP_MIN_LOG_LEVEL"), "level": level}))
"""


@pytest.mark.slow
def test_importing_and_using_spe_changes_no_process_wide_setting():
    # A library import must leave TensorFlow's log settings to the user:
    # spe used to set TF_CPP_MIN_LOG_LEVEL=3 and lower the tensorflow
    # logger, hiding TensorFlow's own errors in the user's code.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=600, cwd=os.getcwd()
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {"env": None, "level": 20}

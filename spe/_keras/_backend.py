"""Import Keras once, quietly.

TensorFlow writes start-up lines (oneDNN, CUDA) straight to file
descriptor 2 from C++, before its logging is set up, so
``TF_CPP_MIN_LOG_LEVEL`` alone cannot hide them. The first import of
Keras here sends that descriptor to a temporary file and replays it only
if the import fails, so real errors are never swallowed. Nothing else is
changed for the process: no environment variable, no logger level, so
TensorFlow's own messages in the user's code still show (the ``spe``
command quietens them for itself).
"""

import io
import os
import sys
import tempfile


def _import_keras_quietly():
    if "keras" in sys.modules:
        return sys.modules["keras"]
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr descriptor (some embedded hosts)
        import keras

        return keras
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            import keras
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return keras


keras = _import_keras_quietly()

__all__ = ["PicklesKerasModel", "keras", "model_from_bytes", "model_from_memory", "model_to_bytes"]


def model_to_bytes(model):
    """Serialise a Keras model to ``.keras`` bytes with the public saving API.

    scikeras pickles models by patching ``keras.Model.__reduce__`` to call the
    private ``keras.src.saving.saving_lib``, which breaks when Keras moves its
    internals. The public API needs a file name ending in ``.keras``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data):
    """Inverse of :func:`model_to_bytes`; loads in Keras' safe mode."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=True, safe_mode=True)


def model_from_memory(data):
    """A ``.keras`` archive's bytes as a model, in safe mode, without writing anything.

    The one reach into Keras' internals for loading: ``keras.saving.load_model``
    takes a path only, and :func:`model_from_bytes` writes the bytes to a
    temporary file. ``saving_lib.load_model`` also takes a file object, and
    reads it in memory: the weights are read into memory (or, when memory is
    short, from the archive as they are needed: a file object has no folder
    to extract them to), and an archive of exactly the three entries Keras
    writes has no assets to extract. Checked by spe.persistence._networks
    before it gets here.
    """
    from keras.src.saving import saving_lib

    return saving_lib.load_model(io.BytesIO(data), compile=True, safe_mode=True)


class PicklesKerasModel:
    """Mixin: pickle a fitted ``model_`` as ``.keras`` bytes, with the public saving API.

    ``_not_pickled`` names attributes to drop (rebuilt after loading).
    """

    _not_pickled = ()

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never change the live object
        for name in self._not_pickled:
            state.pop(name, None)
        # Only a live network: spe's skops saving puts a placeholder there.
        if isinstance(state.get("model_"), keras.Model):
            state["model_"] = model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = model_from_bytes(state["model_"])
        super().__setstate__(state)

"""The light encoder's word-matrix reader (`_Rows`): the rows it reads are the rows safetensors stores."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from assistant.model.light import _Rows


@pytest.fixture
def matrix_file(tmp_path):
    matrix = np.arange(5 * 3, dtype=np.float32).reshape(5, 3) / 7
    path = tmp_path / "m.safetensors"
    save_file({"other": np.ones(4, dtype=np.float32), "words": matrix}, str(path))
    return path, matrix


@pytest.mark.parametrize("ids", [[0], [4, 0, 4], [2, 3, 1]])
def test_rows_are_the_stored_rows(matrix_file, ids):
    path, matrix = matrix_file
    assert np.array_equal(_Rows(path, "words").take(ids), matrix[ids])


@pytest.mark.parametrize("bad", [-1, 5])
def test_an_id_outside_the_vocabulary_is_an_error(matrix_file, bad):
    path, _ = matrix_file
    with pytest.raises(IndexError, match="outside the vocabulary"):
        _Rows(path, "words").take([0, bad])


def test_only_a_float32_matrix_is_read(tmp_path):
    path = tmp_path / "h.safetensors"
    save_file(
        {"words": np.zeros((2, 2), dtype=np.float16), "vector": np.zeros(3, dtype=np.float32)}, str(path)
    )
    for name in ("words", "vector"):
        with pytest.raises(ValueError, match="expected a float32 matrix"):
            _Rows(path, name)

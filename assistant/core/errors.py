"""The assistant's errors: one small tree, every message saying how to fix the problem.

    AssistantError                  base; the CLI prints `error: <message>` and exits with `exit_code`
    ├── ConfigError                 a setting is invalid (exit 2)
    ├── InputError                  a question / argument the user gave is unusable (exit 2)
    │   └── IdCollisionError        `assistant add`: the id or an alias is taken (exit 2)
    ├── CorpusError                 the treaty texts (exit 3)
    │   ├── ManifestError           corpus/sources.toml is missing or malformed
    │   ├── SourceMissingError      a manifest file is not in the corpus folder / source
    │   ├── ChecksumError           a file's sha256 differs from the manifest
    │   ├── DocumentError           a file is unreadable, empty, binary or has no provisions
    │   │   └── UserDocumentError   a document given to `assistant add` cannot be used as it is (exit 6)
    │   │       └── FetchError      a URL given to `assistant add` cannot be fetched
    │   └── TopicMapError           corpus/topics/*.toml is malformed or names what does not exist
    ├── ModelError                  the embedding/chat model is missing or unusable (exit 4)
    ├── IndexError_                 the index (exit 5)
    │   ├── IndexMissingError       no index built yet
    │   ├── IndexMismatchError      built with another model / analyzer / corpus manifest
    │   └── IndexCorruptError       files damaged or unreadable
    └── QuestionFileError           an evaluation question file fails its schema (exit 2)

"No grounded answer" is not an error: it is an `Answer` with `refused=True`.
"""

from __future__ import annotations


class AssistantError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(AssistantError):
    exit_code = 2


class InputError(AssistantError):
    exit_code = 2


class IdCollisionError(InputError):
    pass


class CorpusError(AssistantError):
    exit_code = 3


class ManifestError(CorpusError):
    pass


class SourceMissingError(CorpusError):
    pass


class ChecksumError(CorpusError):
    pass


class DocumentError(CorpusError):
    pass


class UserDocumentError(DocumentError):
    """A document offered by a user (encrypted, scanned, not a zip, too large, empty, ...)."""

    exit_code = 6


class FetchError(UserDocumentError):
    pass


class TopicMapError(CorpusError):
    pass


class ModelError(AssistantError):
    exit_code = 4


class IndexError_(AssistantError):  # noqa: N801 - trailing underscore: do not shadow the builtin
    exit_code = 5


class IndexMissingError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    pass


class IndexCorruptError(IndexError_):
    pass


class QuestionFileError(AssistantError):
    exit_code = 2

"""Offline legal assistant on international cooperation in recovering illegally acquired assets.

Pipeline stages, one module each: corpus → provisions → embeddings → index → retrieval → answer →
citations; `pipeline` wires them, `cli` and the web app are thin edges. Nothing heavy happens on import.
"""

__version__ = "0.1.0"

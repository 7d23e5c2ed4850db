"""Start the web chat: `python app.py [--host HOST] [--port PORT]` (what `make run` does).

Thin on purpose: the settings come from `ASSISTANT_*` variables (and `assistant.toml`), and the app is
`assistant.web.server.serve`; going through the CLI gives the same one-line errors as `assistant serve`
(e.g. «no index built yet; run `assistant index`») instead of a traceback.
"""

from __future__ import annotations

import sys

from assistant.core.settings import force_offline

force_offline()  # before anything imports gradio or transformers

from assistant.cli import main  # noqa: E402 - after the offline switches on purpose

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))

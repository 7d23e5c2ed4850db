"""The Gradio web chat: layout, rendering, the request runner, server limits and the feedback log."""

"""Work products: answers, conversations and comparison tables written as Markdown, CSV, DOCX or PDF."""

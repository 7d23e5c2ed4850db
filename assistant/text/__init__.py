"""Text handling shared by every stage: letter folding, language detection, stemming, tokenising, the input guard."""

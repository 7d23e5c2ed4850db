"""From ranked provisions to an Answer: extractive and generative answers, citations and their verifier."""

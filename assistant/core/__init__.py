"""Shared foundations: settings, the error tree, atomic files, prompt templates, languages and provision ids."""

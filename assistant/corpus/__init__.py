"""The corpus: the manifest (what texts, from where, with which checksums), fetching, and parsing into provisions."""

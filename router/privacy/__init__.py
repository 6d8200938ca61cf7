"""Privacy enforcement at the last moment before a request leaves: redaction and the guard."""

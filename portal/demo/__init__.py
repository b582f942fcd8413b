"""Demo data and demo identities for the embedded development setup."""

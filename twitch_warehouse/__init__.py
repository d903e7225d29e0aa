"""Cross-cutting pieces shared by every layer: settings, database access, logging, the CLI."""

"""Link suggestions: an optional feature the core never imports; only the wiring does."""

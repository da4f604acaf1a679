"""The HTML pages and the JSON API over the operations."""

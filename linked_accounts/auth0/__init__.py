"""Auth0's HTTP APIs, with no Flask import."""

"""Signing in, and every trip to Auth0's login page."""

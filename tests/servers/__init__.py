"""Loopback servers (127.0.0.1 only) that the client tests run against."""

"""The only package that knows the Stellar wire format."""

"""The gateway's own endpoints: logging in and managing operators."""

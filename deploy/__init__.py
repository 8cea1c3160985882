"""Running the system: the local stack (`make run`, `make test`), demo data, and deployment files."""

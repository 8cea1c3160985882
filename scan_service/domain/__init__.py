"""The floor's rules for scan_service, free of Flask: plain functions taking a SQLAlchemy session."""

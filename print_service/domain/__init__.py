"""The floor's rules for print_service, free of Flask: plain functions taking a SQLAlchemy session."""

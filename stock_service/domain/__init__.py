"""The floor's rules for stock_service, free of Flask: plain functions taking a SQLAlchemy session."""

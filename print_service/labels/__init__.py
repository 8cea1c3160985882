"""Labels: one model (model.py) built from template data (templates.py), rendered as ZPL (zpl.py) and PNG (png.py)."""

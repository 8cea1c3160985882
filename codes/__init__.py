"""What a scanned code is: item barcodes (GTIN, GS1), waybills, bins, baskets, badges.

Shared by the services that read scans (stock_service validates barcodes, scan_service tells a
scan's kind at every step). Pure functions, no I/O, no Flask.
"""

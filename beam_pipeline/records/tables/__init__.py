"""One module per table: its schema, version and description, and where its Python row code is.

These modules import no XDR library, so that everything that only needs a table's shape (config
validation, the sinks, `verify`, a run whose tables the native core builds) never imports
stellar_sdk. The row code each names (`LazyTransform`) is imported on the Python path's first use.
"""

"""Pinned front-end files served from our own origin (see static/vendor/README.md)."""

# Subresource Integrity of static/vendor/htmx.min.js (htmx.org 2.0.11); the browser refuses
# the script if the file ever differs. scripts/fetch-vendor.sh prints this value.
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"


def init_app(app) -> None:
    @app.context_processor
    def inject_assets():
        return {"htmx_integrity": HTMX_INTEGRITY}

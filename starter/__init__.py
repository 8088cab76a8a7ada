"""The HTTP API (FastAPI) and the ``sms-addon`` command line."""

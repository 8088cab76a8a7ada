"""The edges people use: the JSON API (`api/`), the billing page (`web/`) and the
``sms-addon`` command line (`cli/`)."""

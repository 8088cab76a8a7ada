"""The billing page: server-rendered HTML at /billing, a client of the JSON API's services."""

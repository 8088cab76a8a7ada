"""One typed client per workflow the API calls: each call goes by the workflow class's
method (never a name string), is bounded by the API's wait and mapped to API.md's
errors by ``application.temporal_calls.answer``."""

"""The JSON API: the app, its dependencies and error shape, and one router per resource."""

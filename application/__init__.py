"""The application layer: what the JSON routes and the billing page both call. It owns
who may do what, the rules' orchestration and the calls to the workflows; it imports no
HTTP framework."""

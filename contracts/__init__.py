"""What the workflows, their activities and the API exchange: each workflow's name and
id, its input, its messages (signals, updates, queries) and its steps' requests and results.
Pure data; the rules they carry out live in domain/."""

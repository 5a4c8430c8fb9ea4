"""Notify's use cases: event handlers and the webhook API's commands, each ``(message, uow,
...)``, typed against the abstract unit of work so unit tests run them on fakes."""

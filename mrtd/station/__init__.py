"""A personalisation station: claims produced jobs from the service over HTTP, writes and reads back the
chip through its PC/SC reader, prints (or writes) the page, and reports; it holds no signing key, only
the X25519 key its per-document chip keys are sealed for."""

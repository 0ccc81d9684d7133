package main

import (
	"io"
)

// redactWriter passes everything written through a redactor. slog's
// handlers write each record with one Write, so a secret is never split.
type redactWriter struct {
	w      io.Writer
	redact func(string) string
}

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

package report

import (
	"io"

	"github.com/permaudit/permaudit/model"
)

// Writer renders a run in one format.
type Writer interface {
	Write(w io.Writer, r *model.Run) error
}

// Formats lists the output formats, for --out and help text.
func Formats() []string { return formats() }

// WriterFor returns the writer of format: "text", "json", "html", "junit",
// "sarif", "markdown" or "csv" (Formats lists them).
func WriterFor(format string) (Writer, error) { return writerFor(format) }

// SARIFWriter returns the "sarif" writer with its file locations relative
// to opts.Root (WriterFor("sarif") takes them as given).
func SARIFWriter(opts SARIFOptions) Writer { return sarifWriter{opts: opts} }

package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// writers maps each format to its Writer constructor.
func writers() map[string]func() Writer {
	return map[string]func() Writer{
		"csv":      func() Writer { return csvWriter{} },
		"html":     func() Writer { return htmlWriter{} },
		"json":     func() Writer { return jsonWriter{} },
		"junit":    func() Writer { return junitWriter{} },
		"markdown": func() Writer { return markdownWriter{} },
		"sarif":    func() Writer { return sarifWriter{} }, // SARIFWriter sets its root
		"text":     func() Writer { return textWriter{} },
	}
}

func formats() []string {
	var fs []string
	for f := range writers() {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

func writerFor(format string) (Writer, error) {
	if mk, ok := writers()[format]; ok {
		return mk(), nil
	}
	return nil, fmt.Errorf("unknown output format %q; formats: %s", format, strings.Join(formats(), ", "))
}

// jsonWriter writes the run JSON as a stream (model.WriteRun): one
// top-level field per line, one cell, entry, finding or note per line.
type jsonWriter struct{}

func (jsonWriter) Write(w io.Writer, r *model.Run) error { return model.WriteRun(w, r) }

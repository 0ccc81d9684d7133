package yamlwalk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml4 "go.yaml.in/yaml/v4"
	"gopkg.in/yaml.v3"
)

// Error is one problem in a YAML file, with its position. Its fields are
// those of roles.ConfigError, so that a loader converts it with a plain
// type conversion, (*roles.ConfigError)(e).
type Error struct {
	File      string
	Line, Col int
	Field     string // dotted path such as "roles.admin.login.bearer"; "" for the document
	Msg       string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// SortErrors orders es by position, keeping the order of problems at the
// same position.
func SortErrors(es []*Error) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Walker decodes one YAML file and reads its nodes, collecting every
// problem in Errs. The zero Walker is ready for use once File is set.
type Walker struct {
	// File names the file in every Error.
	File string
	// Errs are the problems found so far, in the order found.
	Errs []*Error
	// Text, when set, turns the text of every scalar that Str reads (and so
	// Int and Duration) into its value, reporting its own problems and
	// returning false for a value it refused. roles expands ${NAME} with it.
	Text func(n *yaml.Node, path, text string) (string, bool)
}

// Errorf records a problem at n (at 1:1 when n is nil or has no
// position) in field path.
func (w *Walker) Errorf(n *yaml.Node, path, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	w.Errs = append(w.Errs, &Error{File: w.File, Line: line, Col: col, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// MaxBytes is the most a YAML document may hold: 64 MiB, for generated
// matrices are large. Decode refuses a larger one, and ReadFile refuses a
// larger file before reading it.
const MaxBytes = 64 << 20

// ReadFile reads the file at path, the what of messages ("configuration").
// A file larger than MaxBytes is refused with an *Error at 1:1, before a
// byte of it is read when its size is known (a regular file), after
// MaxBytes+1 bytes otherwise.
func ReadFile(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(bytes.MinRead)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > MaxBytes {
			return nil, tooLarge(path, what)
		}
		size = st.Size() + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxBytes+1)); err != nil {
		return nil, err
	}
	if buf.Len() > MaxBytes {
		return nil, tooLarge(path, what)
	}
	return buf.Bytes(), nil
}

func tooLarge(file, what string) *Error {
	return &Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf("the %s is larger than %d MiB, the most one may hold (a generated matrix included): it was not read; generate fewer rules, with patterns such as \"GET /api/orders/*\" in place of one rule per URL", what, MaxBytes>>20)}
}

// Decode parses data, which must hold one YAML document, and returns the
// document's root node. It returns nil and true for an empty document (no
// node at all, as for a file of comments): what empty means is the
// caller's to say, as is a null root (see IsNull). It records a document
// larger than MaxBytes, a syntax error, or aliases that expand too far (see MaxAliasNodes), and returns
// false. A second document is recorded too ("a second YAML document: the
// <what> is one document"), and the first is still returned.
func (w *Walker) Decode(data []byte, what string) (*yaml.Node, bool) {
	if len(data) > MaxBytes {
		w.Errs = append(w.Errs, tooLarge(w.File, what))
		return nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		w.yamlError(err, data)
		return nil, false
	}
	var extra yaml.Node
	if err := decode(dec, &extra); err == nil {
		w.Errorf(&extra, "", "a second YAML document: the %s is one document", what)
	} else if !errors.Is(err, io.EOF) {
		w.yamlError(err, data)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, true
		}
		root = root.Content[0]
	}
	if !w.checkAliases(root) {
		return nil, false
	}
	return root, true
}

// decode is dec.Decode, with a panic of the YAML library turned into an
// error: hostile input must never crash the tool.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError records a syntax error of the YAML library. yaml.v3 places an
// indentation error where the enclosing block starts, not on the line at
// fault; go.yaml.in/yaml/v4 knows the real line and column, so data is
// parsed again with it for the position and the message (docs/design.md,
// "Configuration"). When v4 says nothing more, v3's line is kept.
func (w *Walker) yamlError(err error, data []byte) {
	msg := err.Error()
	line, col := 1, 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	le := reparse(data)
	switch {
	case le == nil || le.Mark.Line <= 0:
	case le.Mark.Index >= len(bytes.TrimRight(data, " \t\r\n")):
		// At the end of the file: the block or flow left open is the
		// place to look.
		msg = le.Message + " at the end of the file"
		if le.ContextMark.Line > 0 && le.ContextMark.Index < le.Mark.Index {
			line, col = le.ContextMark.Line, max(le.ContextMark.Column, 1)
			msg += fmt.Sprintf(", %s that starts here", le.ContextMsg)
		}
	default:
		line, col = le.Mark.Line, max(le.Mark.Column, 1)
		msg = le.Message
		if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark.Line != le.Mark.Line {
			msg += fmt.Sprintf(" (%s that starts at line %d: check this line's indentation)", le.ContextMsg, le.ContextMark.Line)
		}
	}
	w.Errs = append(w.Errs, &Error{File: w.File, Line: max(line, 1), Col: col, Msg: "invalid YAML: " + msg})
}

// reparse parses data with go.yaml.in/yaml/v4 into a node tree (no alias
// is expanded) and returns its syntax error, or nil; a panic of the
// library is nil too.
func reparse(data []byte) (le *yaml4.LoadError) {
	defer func() {
		if recover() != nil {
			le = nil
		}
	}()
	var n yaml4.Node
	if err := yaml4.Unmarshal(data, &n); err != nil && errors.As(err, &le) {
		return le
	}
	return nil
}

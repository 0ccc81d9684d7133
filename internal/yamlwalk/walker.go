package yamlwalk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

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

// Decode parses data, which must hold one YAML document, and returns the
// document's root node. It returns nil and true for an empty document (no
// node at all, as for a file of comments): what empty means is the
// caller's to say, as is a null root (see IsNull). It records a syntax
// error, or aliases that expand too far (see MaxAliasNodes), and returns
// false. A second document is recorded too ("a second YAML document: the
// <what> is one document"), and the first is still returned.
func (w *Walker) Decode(data []byte, what string) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		w.yamlError(err)
		return nil, false
	}
	var extra yaml.Node
	if err := decode(dec, &extra); err == nil {
		w.Errorf(&extra, "", "a second YAML document: the %s is one document", what)
	} else if !errors.Is(err, io.EOF) {
		w.yamlError(err)
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

// yamlError records an error of the YAML library at the line it names.
func (w *Walker) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	w.Errs = append(w.Errs, &Error{File: w.File, Line: max(line, 1), Col: 1, Msg: "invalid YAML: " + msg})
}

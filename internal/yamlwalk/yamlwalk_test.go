package yamlwalk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// errorsOf returns w's problems as "line:col field: msg" lines.
func errorsOf(w *Walker) []string {
	var out []string
	for _, e := range w.Errs {
		out = append(out, fmt.Sprintf("%d:%d %s: %s", e.Line, e.Col, e.Field, e.Msg))
	}
	return out
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantRoot string // the root's kind; "" for none
		wantOK   bool
		wantErrs []string // prefixes, in order
	}{
		{"empty", "", "", true, nil},
		{"comments", "# nothing\n", "", true, nil},
		{"null", "~\n", "null", true, nil},
		{"mapping", "a: 1\n", "a mapping", true, nil},
		{"syntax", "a: 1\nb: [\n", "", false, []string{"2:1 : invalid YAML: did not find expected node content"}},
		{"tab", "a: x\n\tb: 1\n", "", false, []string{"2:1 : invalid YAML: "}},
		// yaml.v3 placed these at the block's first line (1, 3 and 6).
		{"indented too little", "a:\n  b: 1\n c: 2\n", "", false, []string{"3:2 : invalid YAML: did not find expected key (while parsing a block mapping that starts at line 1: check this line's indentation)"}},
		{"indented too little, deep", "t: x\nroles:\n  admin:\n    login:\n      bearer: x\n     check: {url: /me}\nm: {}\n", "", false,
			[]string{"6:6 : invalid YAML: did not find expected key (while parsing a block mapping that starts at line 4: check this line's indentation)"}},
		{"indented too much", "r:\n  check:\n    url: /me\n     status: 200\n", "", false, []string{"4:12 : invalid YAML: mapping values are not allowed in this context"}},
		{"two documents", "a: 1\n---\nb: 2\n", "a mapping", true, []string{"2:1 : a second YAML document: the thing is one document"}},
		{"shared block", "a: &x {k: v}\nb: *x\nc: [*x, *x]\n", "a mapping", true, nil},
		{"cycle", "a: &x\n  b: [1, *x]\n", "", false, []string{"2:10 a.b[1]: alias *x is inside the value it names: it would expand without end"}},
		{"cycle in a key", "&x {*x : 1}\n", "", false, []string{"1:5 : alias *x is inside the value it names"}},
		{"bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
			"", false, []string{"4:36 d[7]: aliases expand to more than 10730 nodes, the most for a document of 73 nodes: nest fewer aliases or write the values out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Walker{File: "f.yaml"}
			root, ok := w.Decode([]byte(tt.yaml), "thing")
			gotRoot := ""
			if root != nil {
				gotRoot = KindName(root)
			}
			if ok != tt.wantOK || gotRoot != tt.wantRoot {
				t.Errorf("Decode = %s, %v; want %s, %v", gotRoot, ok, tt.wantRoot, tt.wantOK)
			}
			got := errorsOf(w)
			if len(got) != len(tt.wantErrs) {
				t.Fatalf("errors %q, want %q", got, tt.wantErrs)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.wantErrs[i]) {
					t.Errorf("error %q, want it to start %q", got[i], tt.wantErrs[i])
				}
			}
		})
	}
}

// TestAliasBound checks that the bound grows with the document: the same
// expansion is refused in a short document and accepted in a long one.
func TestAliasBound(t *testing.T) {
	if got := MaxAliasNodes(0); got != 10_000 {
		t.Errorf("MaxAliasNodes(0) = %d, want 10000", got)
	}
	if got := MaxAliasNodes(10_000_000); got != 1_000_000 {
		t.Errorf("MaxAliasNodes(10000000) = %d, want the cap 1000000", got)
	}
	// An anchored list of 100 strings, referenced 125 times: 12,625
	// nodes through aliases in a document of 230 (bound 12,300).
	head := "a: &a [" + strings.Repeat("x, ", 99) + "x]\nb: [" + strings.Repeat("*a, ", 124) + "*a]\n"
	w := &Walker{File: "f.yaml"}
	if _, ok := w.Decode([]byte(head), "thing"); ok {
		t.Errorf("12,625 nodes through aliases in a document of 230 accepted")
	}
	// The same with 502 more nodes written: the bound is 17,320.
	long := head + "c: [" + strings.Repeat("y, ", 499) + "y]\n"
	w = &Walker{File: "f.yaml"}
	if _, ok := w.Decode([]byte(long), "thing"); !ok {
		t.Errorf("refused: %q", errorsOf(w))
	}
}

func TestHelpers(t *testing.T) {
	doc := `m: {a: 1, b: ~, c: [x, y], d: {e: f}}
dup: {a: 1, a: 2}
merge: {<<: {a: 1}}
key: {[a]: 1}
one: &s lone
list: [1, *s]
n: {i: 42, f: 1.5, b: true, t: " 7 ", big: 99, bad: x}
bool: {y: true, q: "FALSE", no: "yes", l: [true]}
dur: {ok: 1m30s, bad: 90, long: 2h}
`
	w := &Walker{File: "f.yaml"}
	root, ok := w.Decode([]byte(doc), "thing")
	if !ok {
		t.Fatalf("Decode: %q", errorsOf(w))
	}
	top := w.Fields(root, "", "m", "dup", "merge", "key", "list", "one", "n", "bool", "dur")

	m := w.Fields(top["m"], "m", "a", "b", "c")
	if len(m) != 2 || m["a"] == nil || m["c"] == nil {
		t.Errorf("Fields left %v, want a and c (b is null, d unknown)", m)
	}
	if got := w.Known(top["m"], "m", "a", "b", "c", "d"); len(got) != 4 || !IsNull(got[1].Val) {
		t.Errorf("Known kept %d entries, want 4 with b null", len(got))
	}
	w.Entries(top["dup"], "dup")
	w.Entries(top["merge"], "merge")
	w.Entries(top["key"], "key")
	items := w.List(top["list"], "list")
	if len(items) != 2 || items[1].N.Value != "lone" || items[1].Path != "list[1]" {
		t.Errorf("List = %+v, want the alias followed", items)
	}
	if one := w.List(top["one"], "one"); len(one) != 1 || one[0].Path != "one" {
		t.Errorf("List of a scalar = %+v, want a list of one at its own path", one)
	}
	w.List(top["m"], "m")

	nf := w.Fields(top["n"], "n", "i", "f", "b", "t", "big", "bad")
	for k, want := range map[string]string{"i": "42 true", "t": "7 true", "f": "0 false", "b": "0 false", "big": "0 false", "bad": "0 false"} {
		v, ok := w.Int(nf[k], Join("n", k), 0, 50)
		if got := fmt.Sprint(v, ok); got != want {
			t.Errorf("Int(n.%s) = %s, want %s", k, got, want)
		}
	}
	bf := w.Fields(top["bool"], "bool", "y", "q", "no", "l")
	for k, want := range map[string]string{"y": "true true", "q": "false true", "no": "false false", "l": "false false"} {
		v, ok := w.Bool(bf[k], Join("bool", k))
		if got := fmt.Sprint(v, ok); got != want {
			t.Errorf("Bool(bool.%s) = %s, want %s", k, got, want)
		}
	}
	df := w.Fields(top["dur"], "dur", "ok", "bad", "long")
	if d, ok := w.DurationIn(df["ok"], "dur.ok", 0, time.Hour); d != 90*time.Second || !ok {
		t.Errorf("DurationIn(dur.ok) = %v, %v", d, ok)
	}
	w.Duration(df["bad"], "dur.bad")
	w.DurationIn(df["long"], "dur.long", 0, time.Hour)
	if s, ok := w.Str(df["ok"], "dur.ok"); s != "1m30s" || !ok {
		t.Errorf("Str = %q, %v", s, ok)
	}
	w.Str(top["m"], "m")

	SortErrors(w.Errs)
	want := []string{
		"1:4 m: must be a list, not a mapping",
		"1:4 m: must be a string, not a mapping",
		"1:28 m.d: unknown field (known: a, b, c)",
		"2:13 dup.a: duplicate field",
		"3:9 merge: merge keys (<<) are not supported",
		"4:7 key: a key must be a string",
		"7:15 n.f: must be an integer",
		"7:23 n.b: must be an integer",
		"7:44 n.big: 99 is out of range 0..50",
		"7:53 n.bad: must be an integer",
		"8:33 bool.no: must be true or false, not \"yes\"",
		"8:43 bool.l: must be true or false",
		"9:23 dur.bad: \"90\" is not a Go duration such as 10s or 1m30s",
		"9:33 dur.long: 2h0m0s is out of range 0s..1h0m0s",
	}
	if got := errorsOf(w); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors, sorted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestText(t *testing.T) {
	w := &Walker{File: "f.yaml", Text: func(n *yaml.Node, path, s string) (string, bool) {
		if s == "bad" {
			return "", false
		}
		return strings.ToUpper(s), true
	}}
	root, _ := w.Decode([]byte("a: x\nb: bad\nc: 12\n"), "thing")
	f := w.Fields(root, "", "a", "b", "c")
	if s, ok := w.Str(f["a"], "a"); s != "X" || !ok {
		t.Errorf("Str(a) = %q, %v, want the text turned", s, ok)
	}
	if _, ok := w.Str(f["b"], "b"); ok {
		t.Errorf("Str(b) accepted what Text refused")
	}
	if v, ok := w.Int(f["c"], "c", 0, 100); v != 12 || !ok {
		t.Errorf("Int(c) = %d, %v", v, ok)
	}
}

func TestPaths(t *testing.T) {
	if got := Join(Index(Join("matrix", "rules"), 0), "allow"); got != "matrix.rules[0].allow" {
		t.Errorf("got %q", got)
	}
	if got := Join("", "target"); got != "target" {
		t.Errorf("got %q", got)
	}
	e := &Error{File: "f.yaml", Line: 3, Col: 7, Field: "roles.a", Msg: "bad"}
	if got := e.Error(); got != "f.yaml:3:7: roles.a: bad" {
		t.Errorf("Error() = %q", got)
	}
	e.Field = ""
	if got := e.Error(); got != "f.yaml:3:7: bad" {
		t.Errorf("Error() = %q", got)
	}
}

// TestMaxBytes: a document over MaxBytes is refused at 1:1, by Decode and
// by ReadFile, which reads none of a regular file that large.
func TestMaxBytes(t *testing.T) {
	big := make([]byte, MaxBytes+1)
	for i := range big {
		big[i] = ' '
	}
	w := &Walker{File: "f.yaml"}
	if root, ok := w.Decode(big, "thing"); root != nil || ok {
		t.Errorf("Decode of %d bytes = %v, %v; want nil, false", len(big), root, ok)
	}
	const want = "1:1 : the thing is larger than 64 MiB"
	if got := errorsOf(w); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("errors %q, want one starting %q", got, want)
	}
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, big, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := ReadFile(p, "thing")
	var e *Error
	if data != nil || !errors.As(err, &e) || e.Line != 1 || e.Col != 1 || e.File != p || !strings.HasPrefix(e.Msg, "the thing is larger than 64 MiB") {
		t.Errorf("ReadFile = %d bytes, %v; want none and a positioned error", len(data), err)
	}
	if data, err := ReadFile(p[:len(p)-len("big.yaml")]+"none.yaml", "thing"); data != nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v, %v", data, err)
	}
}

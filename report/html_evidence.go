package report

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// The evidence of the cells travels in the report as JSON documents of
// evidenceChunk cells each, gzipped and base64-encoded, each in a
// <script type="application/octet-stream" class="pa-evidence"
// data-first="N"> element (N is the index of its first cell): base64
// holds no "<", so nothing from the target can end the element, and gzip
// keeps a report of 40,000 cells small enough to open fast. A click
// decodes only the chunk of its cell (DecompressionStream), once. The
// chunks are encoded one at a time as the page is written
// (writeEvidence).
//
// A document is {"v": 1, "s": strings, "c": cells}. Every string is
// stored once in "s" (index 0 is ""), and each cell is an array of
// indexes into it, in the order of the evField constants, except
// evStatus and evWWWAuth (numbers), evChain and evBodyChecks (lists of
// string indexes) and evFindings (a list of [verdict, message,
// fingerprint] indexes). report.js reads the same positions; a field is
// added at the end, before evFields, so that both keep their order.
const (
	evVerdict = iota
	evSymbol
	evEndpoint
	evRole
	evSignIn
	evRequest
	evStatus
	evAnswer
	evClass
	evWhy
	evLocation
	evChain
	evLatency
	evContentType
	evSize
	evWWWAuth
	evExpected
	evRule
	evTemplate
	evError
	evExcerpt
	evCurl
	evFindings
	evBodyChecks
	evFields
)

// evidenceVersion names the layout above; report.js checks it.
const evidenceVersion = 1

// evidenceChunk is the number of cells per evidence document.
const evidenceChunk = 1000

// evidenceDoc is the decoded evidence document.
type evidenceDoc struct {
	Version int      `json:"v"`
	Strings []string `json:"s"`
	Cells   [][]any  `json:"c"`
}

// evFind is a finding or note attached to a cell.
type evFind struct {
	Verdict     model.Verdict
	Message     string
	Fingerprint string
}

// stringTable interns strings.
type stringTable struct {
	index   map[string]int
	strings []string
}

func newStringTable() *stringTable {
	return &stringTable{index: map[string]int{"": 0}, strings: []string{""}}
}

func (t *stringTable) id(s string) int {
	if i, ok := t.index[s]; ok {
		return i
	}
	t.index[s] = len(t.strings)
	t.strings = append(t.strings, s)
	return len(t.strings) - 1
}

// writeEvidence writes the evidence of every cell of r, evidenceChunk
// cells per document, each encoded as it is written: one document is in
// memory at a time. Every string from the target is sanitised; the page
// shows them with textContent only.
func writeEvidence(w io.Writer, r *model.Run, signIn map[string]string, byCell map[int][]evFind) error {
	for first := 0; first < r.Observations.Len(); first += evidenceChunk {
		end := min(first+evidenceChunk, r.Observations.Len())
		t := newStringTable()
		doc := evidenceDoc{Version: evidenceVersion, Cells: make([][]any, 0, end-first)}
		for i := first; i < end; i++ {
			c := r.Observations.At(i)
			doc.Cells = append(doc.Cells, cellEvidence(t, c, signIn[c.Role], byCell[i]))
		}
		doc.Strings = t.strings
		if _, err := io.WriteString(w, `<script type="application/octet-stream" class="pa-evidence" data-first="`+strconv.Itoa(first)+`">`); err != nil {
			return err
		}
		if err := encodeDoc(w, doc); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "</script>\n"); err != nil {
			return err
		}
	}
	return nil
}

// encodeDoc writes base64(gzip(json(doc))) to w: base64 holds no "<", so
// nothing from the target can end the element.
func encodeDoc(w io.Writer, doc evidenceDoc) error {
	b64 := base64.NewEncoder(base64.StdEncoding, w)
	zw, _ := gzip.NewWriterLevel(b64, gzip.BestCompression) // a valid level: no error
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false) // base64 follows: no character is special
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return b64.Close()
}

// decodeEvidence reverses encodeDoc (for tests and tools).
func decodeEvidence(s string) (*evidenceDoc, error) {
	gz, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("evidence: base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("evidence: gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("evidence: gzip: %w", err)
	}
	var doc evidenceDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("evidence: json: %w", err)
	}
	return &doc, nil
}

// cellEvidence is one cell's record: what a click on it shows.
func cellEvidence(t *stringTable, c model.Cell, signIn string, finds []evFind) []any {
	rec := make([]any, evFields)
	s := func(field int, v string) { rec[field] = t.id(v) }
	s(evVerdict, string(c.Verdict))
	s(evSymbol, symbolOf(c.Verdict))
	s(evEndpoint, textout.Sanitize(c.Method+" "+model.PathOf(c.URL)))
	s(evRole, textout.Sanitize(c.Role))
	s(evSignIn, textout.Sanitize(signIn))
	s(evRequest, sanitizeBlock(requestLine(c.Method, c.URL)))
	rec[evStatus] = c.Status
	s(evAnswer, textout.Sanitize(c.Observation.Observed()))
	s(evClass, textout.Sanitize(string(c.Class)))
	s(evWhy, textout.Sanitize(c.Why))
	s(evLocation, textout.Sanitize(c.Location))
	chain := []int{}
	for _, h := range c.Chain {
		hop := strconv.Itoa(h.Status) + " " + h.URL
		if h.Location != "" {
			hop += " → " + h.Location
		}
		chain = append(chain, t.id(textout.Sanitize(hop)))
	}
	rec[evChain] = chain
	s(evLatency, formatDuration(c.Latency))
	s(evContentType, textout.Sanitize(c.ContentType))
	size := ""
	if c.Size > 0 || c.BodySHA256 != "" {
		size = strconv.FormatInt(c.Size, 10) + " bytes"
		if c.Truncated {
			size += " (cut at the size cap)"
		}
	}
	s(evSize, size)
	rec[evWWWAuth] = 0
	if c.WWWAuth {
		rec[evWWWAuth] = 1
	}
	s(evExpected, textout.Sanitize(c.Expected))
	s(evRule, textout.Sanitize(c.Rule))
	s(evTemplate, textout.Sanitize(c.Template))
	s(evError, textout.Sanitize(c.Err))
	s(evExcerpt, sanitizeBlock(c.Excerpt))
	s(evCurl, curlCommand(c.Method, c.URL, c.Role, signIn))
	fs := [][3]int{}
	for _, f := range finds {
		fs = append(fs, [3]int{t.id(string(f.Verdict)), t.id(f.Message), t.id(f.Fingerprint)})
	}
	rec[evFindings] = fs
	checks := []int{}
	for _, l := range bodyCheckLines(c.BodyChecks) { // sanitised
		checks = append(checks, t.id(l))
	}
	rec[evBodyChecks] = checks
	return rec
}

// requestLine renders the request as HTTP/1.1 would send it, without any
// credential: "GET /admin/?a=1 HTTP/1.1\nHost: 127.0.0.1:8080".
func requestLine(method, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return method + " " + raw
	}
	return method + " " + u.RequestURI() + " HTTP/1.1\nHost: " + u.Host
}

// curlCommand replays a probe with curl, the role's credentials replaced
// by environment-variable placeholders named after the role
// (PERMAUDIT_SUPPORT_TOKEN): the run never holds a secret, so the command
// cannot either. The URL is single-quoted for POSIX shells. HEAD is
// curl's -I (--head): with -X HEAD curl would wait for a body that never
// comes.
func curlCommand(method, raw, role, signIn string) string {
	parts := []string{"curl -sS -i"}
	switch method {
	case "GET", "":
	case "HEAD":
		parts[0] = "curl -sS -I"
	default:
		parts = append(parts, "-X "+shellQuote(method))
	}
	parts = append(parts, shellQuote(raw))
	env := "PERMAUDIT_" + envName(role)
	seen := map[string]bool{}
	for _, kind := range strings.Split(signIn, "+") {
		kind = strings.TrimSpace(kind)
		if seen[kind] {
			continue
		}
		seen[kind] = true
		switch kind {
		case "", "none":
		case "basic":
			parts = append(parts, `-u "$`+env+`_USERNAME:$`+env+`_PASSWORD"`)
		case "bearer":
			parts = append(parts, `-H "Authorization: Bearer $`+env+`_TOKEN"`)
		case "headers":
			parts = append(parts, `-H "$`+env+`_HEADER"`)
		default: // cookies, and every sign-in that ends in a session cookie
			parts = append(parts, `-b "$`+env+`_COOKIE"`)
		}
	}
	return textout.Sanitize(strings.Join(parts, " "))
}

// envName turns a role name into an environment variable name part:
// upper case, every other character than A-Z and 0-9 an underscore.
func envName(role string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(role) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "ROLE"
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special except the single quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package judge

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/permaudit/permaudit/model"
)

// Comparing a denied answer with its missing siblings (docs/design.md,
// "Existence canaries").
//
// A body is read as a list of tokens, whitespace set aside: a word is a
// run of letters and digits, joined by "-", "_" and "." between them and
// by "," and ":" between digits ("1.5rem", "2026-12-04", "12:30",
// "order-5" are one word each); every other character is a token of its
// own. Percent, HTML and JSON escapes of punctuation are read first, so
// that "%2F5", "&#47;5" and "\/5" end in the word "5". A word equal to
// one of the requested URL's identifiers (ignoring ASCII case) is that
// id: it matches the sibling's id, or the same text. A nonce-shaped word
// (noiseShaped: a time, a date, a timestamp, hex, a nonce or request id),
// and the value of an attribute or JSON field named like a token or
// nonce, is noise: it matches any noise. An id is thus
// set aside only where it stands as a word of its own, never inside
// another ("5" in "1.5rem" or "order-5").
//
// The two siblings calibrate the comparison: what differs between them is
// noise too. The answer differs from them only where it differs from the
// first sibling at a place the two siblings agree on.

// maxShapeTokens bounds the tokens of a body that are compared: a denial
// is short, and a longer body is compared on its first tokens.
const maxShapeTokens = 50000

// maxEdits bounds the edit distance the comparison computes; bodies
// further apart than that differ.
const maxEdits = 256

// token is one token of a body.
type token struct {
	text  string
	id    bool // the requested id
	noise bool // noise-shaped: a nonce, a timestamp, a token field
}

// Shape is a body (or a Location) read for comparison with existence
// canaries: its tokens, ids and noise marked. ShapeOf makes one.
type Shape struct {
	toks []token
}

// entities are the named HTML escapes of punctuation unescape reads.
var entities = map[string]byte{"amp": '&', "quot": '"', "apos": '\'', "lt": '<', "gt": '>', "sol": '/', "equals": '=', "colon": ':', "quest": '?', "num": '#'}

// tokenWords are the words that name a token field: a field whose value
// is noise (csrf-token, _wpnonce, authenticity_token, sesskey).
var tokenWords = []string{"csrf", "xsrf", "nonce", "token", "sesskey", "authenticity"}

// Key is a digest of the shape as comparisons see it (ids and noise as
// placeholders): two shapes with one key compare alike with every other,
// so a caller holding many may keep one of each.
func (s *Shape) Key() [32]byte {
	h := sha256.New()
	for _, t := range s.toks {
		switch {
		case t.id:
			h.Write([]byte{0, 'i'})
		case t.noise:
			h.Write([]byte{0, 'n'})
		default:
			h.Write([]byte{0})
			h.Write([]byte(t.text))
		}
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// ShapeOf reads text for comparison, with ids the requested URL's
// identifiers (decoded).
func ShapeOf(text string, ids []string) *Shape {
	for range 2 { // twice: a value escaped twice ("%252F") reads too
		text = unescape(text)
	}
	s := &Shape{}
	for _, w := range words(text) {
		t := token{text: w}
		if isWordStart(w) {
			switch {
			case isIDWord(w, ids):
				t.id = true
			case noiseShaped(w):
				t.noise = true
			}
		}
		s.toks = append(s.toks, t)
		if len(s.toks) == maxShapeTokens {
			break
		}
	}
	markTokenFields(s.toks)
	return s
}

// unescape reads the percent, HTML and JSON escapes of ASCII characters
// that are not letters or digits, so that an id after an escaped slash
// or equals sign is a word of its own.
func unescape(text string) string {
	if !strings.ContainsAny(text, `%&\`) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		c, n := decodeEscape(text[i:])
		if n == 0 {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteByte(c)
		i += n
	}
	return b.String()
}

// decodeEscape reads one escape at the start of s: the character and the
// escape's length, or 0 when s starts with none (or with the escape of a
// letter, a digit or a control character).
func decodeEscape(s string) (byte, int) {
	hexOf := func(h string) (int, bool) {
		v, err := strconv.ParseUint(h, 16, 8)
		return int(v), err == nil
	}
	var v, n int
	ok := false
	switch {
	case s[0] == '%' && len(s) >= 3:
		v, ok = hexOf(s[1:3])
		n = 3
	case s[0] == '\\' && len(s) >= 2 && s[1] == '/':
		return '/', 2
	case s[0] == '\\' && len(s) >= 6 && s[1] == 'u' && s[2] == '0' && s[3] == '0':
		v, ok = hexOf(s[4:6])
		n = 6
	case s[0] == '&' && len(s) >= 3:
		end := strings.IndexByte(s[:min(len(s), 10)], ';')
		if end < 2 {
			return 0, 0
		}
		name := s[1:end]
		n = end + 1
		switch {
		case name[0] == '#' && len(name) > 1 && (name[1] == 'x' || name[1] == 'X'):
			v, ok = hexOf(name[2:])
		case name[0] == '#':
			x, err := strconv.ParseUint(name[1:], 10, 8)
			v, ok = int(x), err == nil
		default:
			c, known := entities[name]
			if known {
				return c, n
			}
		}
	}
	if !ok || v < 0x20 || v >= 0x80 || isWordRune(rune(v)) {
		return 0, 0
	}
	return byte(v), n
}

// markTokenFields marks as noise the values of token fields: after a word
// naming one, "= value" or ": value" (quoted or one word); and, in an
// HTML tag holding such a word (<input name="_wpnonce" value=...>, <meta
// name="csrf-token" content=...>), the value and content attributes.
func markTokenFields(toks []token) {
	tagStart := -1
	tagHasToken := false
	for i := 0; i < len(toks); i++ {
		t := toks[i].text
		switch t {
		case "<":
			tagStart, tagHasToken = i, false
			continue
		case ">":
			if tagHasToken {
				markAttrs(toks[tagStart:i])
			}
			tagStart = -1
			continue
		}
		if !isWordStart(t) || !namesToken(t) {
			continue
		}
		if tagStart >= 0 {
			tagHasToken = true
		}
		markValueAfter(toks, i+1)
	}
}

// namesToken reports whether a word names a token field.
func namesToken(w string) bool {
	l := strings.ToLower(w)
	for _, k := range tokenWords {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

// markValueAfter marks the value of `"? (=|:) value` at toks[i:] as noise.
func markValueAfter(toks []token, i int) {
	if i < len(toks) && (toks[i].text == `"` || toks[i].text == "'") {
		i++
	}
	if i >= len(toks) || toks[i].text != "=" && toks[i].text != ":" {
		return
	}
	i++
	if i >= len(toks) {
		return
	}
	q := toks[i].text
	if q != `"` && q != "'" {
		toks[i].noise = true
		return
	}
	for j := i + 1; j < len(toks) && j <= i+64; j++ {
		if toks[j].text == q {
			return
		}
		toks[j].noise = true
	}
}

// markAttrs marks the value and content attributes of a tag's tokens.
func markAttrs(tag []token) {
	for i, t := range tag {
		if l := strings.ToLower(t.text); l == "value" || l == "content" {
			markValueAfter(tag, i+1)
		}
	}
}

// words splits text into tokens (see the comment above).
func words(text string) []string {
	var out []string
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		if !isWordRune(r) {
			out = append(out, text[i:i+n])
			i += n
			continue
		}
		start := i
		prev := r
		i += n
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if isWordRune(r) {
				prev = r
				i += n
				continue
			}
			next, _ := utf8.DecodeRuneInString(text[i+n:])
			joins := false
			switch r {
			case '-', '_', '.':
				joins = isWordRune(next)
			case ',', ':':
				joins = unicode.IsDigit(prev) && unicode.IsDigit(next)
			}
			if !joins || i+n >= len(text) {
				break
			}
			prev = r
			i += n
		}
		out = append(out, text[start:i])
	}
	return out
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func isWordStart(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return isWordRune(r)
}

func isIDWord(w string, ids []string) bool {
	for _, id := range ids {
		if id != "" && strings.EqualFold(w, id) {
			return true
		}
	}
	return false
}

// noiseShaped reports whether a word looks like a value that changes
// from one request or session to the next: a time ("12:30"), or 8 or
// more characters with a digit that are mostly digits (a date, a
// timestamp, hex) or letters and digits without a separator (a nonce, a
// request id). A code such as "ERR_NOT_FOUND_404" is a word, not noise.
func noiseShaped(w string) bool {
	n, digits, colon, sep := 0, 0, false, false
	for i, r := range w {
		n++
		switch {
		case unicode.IsDigit(r):
			digits++
		case r == ':' && i > 0:
			colon = true
		case r == '_' || r == '-':
			sep = true
		}
	}
	switch {
	case digits == 0:
		return false
	case colon:
		return true
	case n < 8:
		return false
	}
	return digits*4 >= n || !sep && digits >= 2
}

// same reports whether two tokens match: both the requested id, both
// noise, or the same text.
func same(a, b token) bool {
	return a.id && b.id || a.noise && b.noise || a.text == b.text
}

// hunk is one difference between two token lists: a[as:ae] stands where
// b has b[bs:be].
type hunk struct{ as, ae, bs, be int }

// diff returns the differences between a and b, or false when they are
// more than maxEdits edits apart. It trims the common start and end, then
// runs Myers' O(ND) algorithm on what is left.
func diff(a, b []token) ([]hunk, bool) {
	pre := 0
	for pre < len(a) && pre < len(b) && same(a[pre], b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && same(a[len(a)-1-suf], b[len(b)-1-suf]) {
		suf++
	}
	x, y := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(x), len(y)
	if n == 0 && m == 0 {
		return nil, true
	}
	if n == 0 || m == 0 {
		return []hunk{{pre, pre + n, pre, pre + m}}, true
	}
	off := maxEdits + 1
	v := make([]int, 2*off+1)
	var trace [][]int
	found := -1
	for d := 0; d <= maxEdits && found < 0; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				i = v[off+k+1]
			} else {
				i = v[off+k-1] + 1
			}
			j := i - k
			for i < n && j < m && same(x[i], y[j]) {
				i, j = i+1, j+1
			}
			v[off+k] = i
			if i >= n && j >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		return nil, false
	}
	// Walk back through the trace: each step is one deletion or insertion
	// after a run of matches.
	type edit struct {
		i, j int
		del  bool
	}
	var edits []edit
	i, j := n, m
	for d := found; d > 0; d-- {
		pv := trace[d]
		k := i - j
		pk := k - 1
		if k == -d || k != d && pv[off+k-1] < pv[off+k+1] {
			pk = k + 1
		}
		pi := pv[off+pk]
		pj := pi - pk
		for i > pi && j > pj {
			i, j = i-1, j-1
		}
		edits = append(edits, edit{pi, pj, pk == k-1}) // k-1: a deletion of x[pi]; k+1: an insertion of y[pj]
		i, j = pi, pj
	}
	// edits are last first; gather runs into hunks, first first.
	var hs []hunk
	for e := len(edits) - 1; e >= 0; e-- {
		ed := edits[e]
		as, bs := ed.i, ed.j
		ae, be := as, bs
		if ed.del {
			ae++
		} else {
			be++
		}
		if len(hs) > 0 {
			h := &hs[len(hs)-1]
			if h.ae == as && h.be == bs {
				h.ae, h.be = ae, be
				continue
			}
		}
		hs = append(hs, hunk{as, ae, bs, be})
	}
	for k := range hs {
		hs[k].as += pre
		hs[k].ae += pre
		hs[k].bs += pre
		hs[k].be += pre
	}
	return hs, true
}

// CompareMissing compares the shape of a denied answer with those of its
// two missing siblings a and b. It reports whether the answer differs
// from them where they agree with each other, and shows the first such
// difference, normalised: `"Forbidden" where the missing siblings have
// "Not found"` (ids written {id}, noise {noise}). When the siblings are
// too far apart to calibrate anything, nothing counts.
func CompareMissing(o, a, b *Shape) *model.MissingBody {
	if o == nil || a == nil || b == nil {
		return nil
	}
	calib, ok := diff(a.toks, b.toks)
	if !ok {
		return &model.MissingBody{}
	}
	noise := make([]bool, len(a.toks)+1) // a's tokens that vary between the siblings
	gap := make([]bool, len(a.toks)+1)   // places in a where a sibling inserts
	for _, h := range calib {
		for k := h.as; k < h.ae; k++ {
			noise[k] = true
		}
		gap[h.as], gap[h.ae] = true, true
	}
	hs, ok := diff(a.toks, o.toks)
	if !ok {
		return &model.MissingBody{Differs: true, Difference: "the body is unlike the missing siblings' throughout"}
	}
	for _, h := range hs {
		counts := h.as == h.ae && !gap[h.as]
		for k := h.as; k < h.ae; k++ {
			counts = counts || !noise[k]
		}
		if !counts {
			continue
		}
		return &model.MissingBody{Differs: true, Difference: fmt.Sprintf("%s where the missing siblings have %s",
			quoteToks(o.toks, h.bs, h.be), quoteToks(a.toks, h.as, h.ae))}
	}
	return &model.MissingBody{}
}

// quoteToks shows toks[from:to] with a token of context either side,
// quoted, at most about 120 bytes.
func quoteToks(toks []token, from, to int) string {
	if from == to {
		if from > 0 {
			from--
		}
		if to < len(toks) {
			to++
		}
		if from == to {
			return "nothing"
		}
	}
	var b strings.Builder
	for k := from; k < to; k++ {
		t := toks[k]
		s := t.text
		switch {
		case t.id:
			s = "{id}"
		case t.noise:
			s = "{noise}"
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if b.Len()+len(s) > 120 {
			b.WriteString("…")
			break
		}
		b.WriteString(s)
	}
	return strconv.Quote(b.String())
}

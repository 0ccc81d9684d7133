package crawl

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// Existence canaries.
//
// For each template with an id (GET /orders/{id}), the probe also asks,
// as each role the matrix denies some URL of that template, for two
// siblings that cannot exist: the template's first URL with its last id
// replaced by an id derived from the template (so every run asks for the
// same ones). A hidden resource must answer exactly like them; report
// compares the answers (status, and the body with the requested id
// removed, when the two canaries agree with each other).

// canariesPerTemplate is how many non-existent siblings are asked for:
// two, so that a body that changes on every request (a nonce, a time) is
// told apart from a body that tells a resource exists.
const canariesPerTemplate = 2

// maxCanaryTries bounds the derivations tried for one canary when a
// derived URL is excluded by the scope or collides with a real endpoint.
const maxCanaryTries = 8

// canaryJobs returns the canary probes for the endpoints of jobs: for
// each template holding an id, in template order, its canaries as every
// role of sessions that the matrix denies at least one of the template's
// URLs (the jobs' expectations say which; unmapped endpoints are not
// judged, so they need no canary). They come sorted by URL, then role
// order; each holds its expectation, looked up with vars.
func canaryJobs(cfg *roles.Config, vars roles.Vars, scope *Scope, jobs []probeJob, sessions []*session.Session) []probeJob {
	groups := map[string][]model.Endpoint{}
	denied := map[string]map[string]bool{} // template to the roles denied one of its URLs
	real := map[string]bool{}
	for _, j := range jobs {
		real[j.ep.URL] = true
		if j.ep.Method != http.MethodGet || !model.HasID(j.ep.URL) {
			continue
		}
		t := model.Template(j.ep.Method, j.ep.URL)
		g := groups[t]
		if len(g) == 0 || g[len(g)-1] != j.ep {
			groups[t] = append(g, j.ep)
		}
		if !j.exp.Allow && !j.exp.Unmapped {
			if denied[t] == nil {
				denied[t] = map[string]bool{}
			}
			denied[t][j.sess.Name()] = true
		}
	}
	templates := make([]string, 0, len(groups))
	for t := range groups {
		templates = append(templates, t)
	}
	sort.Strings(templates)
	rank := map[string]int{}
	for i, s := range sessions {
		rank[s.Name()] = i
	}
	var out []probeJob
	for _, t := range templates {
		g := groups[t]
		sort.Slice(g, func(i, j int) bool { return g[i].URL < g[j].URL })
		sample := g[0]
		var canaries []*url.URL
		for n := 1; len(canaries) < canariesPerTemplate && n <= canariesPerTemplate+maxCanaryTries; n++ {
			c, ok := canaryURL(sample.URL, t, n)
			if !ok {
				break
			}
			if _, skip := scope.Skip(http.MethodGet, c); skip || real[c.String()] {
				continue
			}
			canaries = append(canaries, c)
		}
		if len(canaries) < canariesPerTemplate {
			continue
		}
		for _, s := range sessions {
			if !denied[t][s.Name()] {
				continue
			}
			for _, c := range canaries {
				exp := cfg.Expect(http.MethodGet, c, s.Name(), vars)
				out = append(out, probeJob{ep: model.Endpoint{Method: http.MethodGet, URL: c.String()}, u: c, sess: s, canaryOf: sample.URL, exp: exp})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ep.URL != out[j].ep.URL {
			return out[i].ep.URL < out[j].ep.URL
		}
		return rank[out[i].sess.Name()] < rank[out[j].sess.Name()]
	})
	return out
}

// canaryURL returns raw with its last id-like path segment (or, without
// one, its last id-like query value) replaced by canaryID(id, seed, n).
func canaryURL(raw, seed string, n int) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if d, err := url.PathUnescape(segs[i]); err == nil && model.IsID(d) {
			segs[i] = url.PathEscape(canaryID(d, seed, n))
			c := *u
			c.RawPath = strings.Join(segs, "/")
			c.Path, _ = url.PathUnescape(c.RawPath)
			nu, err := model.Normalize(nil, c.String())
			return nu, err == nil
		}
	}
	params := strings.Split(u.RawQuery, "&")
	for i := len(params) - 1; i >= 0; i-- {
		k, v, _ := strings.Cut(params[i], "=")
		if d, err := url.QueryUnescape(v); err == nil && model.IsID(d) {
			params[i] = k + "=" + url.QueryEscape(canaryID(d, seed, n))
			c := *u
			c.RawQuery = strings.Join(params, "&")
			nu, err := model.Normalize(nil, c.String())
			return nu, err == nil
		}
	}
	return nil, false
}

// canaryID derives, from seed and n, an id of the same kind as id that an
// application is unlikely to hold:
//
//   - a number: 9 digits starting with 9 (900000000 and up, still an
//     int32) for shorter ids; as long as id, starting with 9 (or 1 from
//     19 digits on, to stay an int64), for longer ones;
//   - a UUID: a version-4 UUID, in id's case;
//   - hex: as many hex digits, in id's case;
//   - a letter-digit token: as many letters and digits, from the
//     alphabet id uses (lower, upper, or both).
//
// The result is an id for IsID too, so a canary has its sibling's
// template.
func canaryID(id, seed string, n int) string {
	h := sha256.Sum256([]byte("permaudit existence canary\x00" + seed + "\x00" + strconv.Itoa(n)))
	// As many pseudo-random bytes as the id needs, and a few more.
	stream := h[:]
	for block := h; len(stream) < len(id)+64; {
		block = sha256.Sum256(block[:])
		stream = append(stream, block[:]...)
	}
	pick := func(length int, alphabet string) []byte {
		b := make([]byte, length)
		for i := range b {
			b[i] = alphabet[int(stream[i])%len(alphabet)]
		}
		return b
	}
	lower, upper := strings.ToLower(id) == id, strings.ToUpper(id) == id
	switch model.IDKind(id) {
	case model.IDNumber:
		length := max(len(id), 9)
		b := pick(length, "0123456789")
		b[0] = '9'
		if length >= 19 {
			b[0] = '1'
		}
		return string(b)
	case model.IDUUID:
		x := hex.EncodeToString(h[:16])
		x = x[:12] + "4" + x[13:16] + string("89ab"[int(h[17])%4]) + x[17:]
		s := x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
		if upper && !lower {
			s = strings.ToUpper(s)
		}
		return s
	case model.IDHex:
		b := pick(len(id), "0123456789abcdef")
		b[0] = '9' // IsID wants a digit in hex
		if upper && !lower {
			return strings.ToUpper(string(b))
		}
		return string(b)
	}
	alphabet := "abcdefghijklmnopqrstuvwxyz"
	switch {
	case upper && !lower:
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	case !upper && !lower:
		alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	}
	b := pick(max(len(id), 10), alphabet+"0123456789")
	// IsID wants a letter and a digit.
	b[0] = alphabet[int(stream[len(b)])%len(alphabet)]
	b[len(b)-1] = "0123456789"[int(stream[len(b)+1])%10]
	return string(b)
}

// bodyDigestWithoutIDs is the hex SHA-256 of body with rawURL's ids
// removed (StripIDs), or "" when the URL holds no id or there is no body.
func bodyDigestWithoutIDs(rawURL string, body []byte) string {
	if len(body) == 0 || !model.HasID(rawURL) {
		return ""
	}
	sum := sha256.Sum256([]byte(model.StripIDs(rawURL, string(body))))
	return hex.EncodeToString(sum[:])
}

package crawl

import (
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/session"
)

// TestAnswersHoldEveryField: an answer discovery keeps comes back as the
// observation it was made from, field by field, and an observation with
// a field the compact form does not hold is not kept (the probe then
// requests the cell). A field added to model.Observation fails this test
// until answers.go says which of the two it is.
func TestAnswersHoldEveryField(t *testing.T) {
	obs := model.Observation{
		Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1/a?id=1"}, Role: "admin",
		Status: 403, Location: "/login", Class: model.Forbidden, Why: "status 403", ContentType: "text/html",
		Size: 1234, Truncated: true, BodySHA256: strings.Repeat("d1", 32), Excerpt: "Forbidden", WWWAuth: true,
		Latency: 3 * time.Millisecond, Session: model.SessionLive, BodySHA256WithoutIDs: "d2",
	}
	refused := map[string]func(*model.Observation){
		"Chain":      func(o *model.Observation) { o.Chain = []model.Hop{{URL: "http://127.0.0.1/", Status: 302}} },
		"Err":        func(o *model.Observation) { o.Err = "reading body" },
		"Missing":    func(o *model.Observation) { o.Missing = &model.MissingBody{} },
		"CanaryOf":   func(o *model.Observation) { o.CanaryOf = "http://127.0.0.1/a?id=2" },
		"BodyChecks": func(o *model.Observation) { o.BodyChecks = []model.BodyCheckResult{{}} },
	}
	var fields func(reflect.Value)
	fields = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Anonymous {
				fields(v.Field(i))
				continue
			}
			if _, ok := refused[f.Name]; !ok && v.Field(i).IsZero() {
				t.Errorf("Observation.%s: this test does not set it; say in answers.go whether an answer holds it (compact, observation) or is refused (compact), and set it here", f.Name)
			}
		}
	}
	fields(reflect.ValueOf(obs))
	var tx texts
	s, ok := tx.compact(obs)
	if !ok {
		t.Fatal("compact refused an observation discovery can make")
	}
	if got := tx.observation(&s, obs.Role); !reflect.DeepEqual(got, obs) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, obs)
	}
	// A digest that is not 64 lower-case hex digits (a test's) is held as
	// a text and comes back as written.
	for _, d := range []string{"d1", strings.Repeat("D1", 32), strings.Repeat("d1", 31) + "zz"} {
		o := obs
		o.BodySHA256 = d
		s, _ := tx.compact(o)
		if got := tx.observation(&s, o.Role); got.BodySHA256 != d {
			t.Errorf("digest %q came back as %q", d, got.BodySHA256)
		}
	}
	tx = texts{}
	for name, set := range refused {
		o := obs
		set(&o)
		if _, ok := tx.compact(o); ok {
			t.Errorf("an observation with %s was kept: the answer would lose it", name)
		}
	}
	post := obs
	post.Method = "POST"
	if _, ok := tx.compact(post); ok {
		t.Error("a POST was kept: answers are GET pages")
	}
	if n := unsafe.Sizeof(seenAnswer{}); n > 120 {
		t.Errorf("seenAnswer is %d bytes, the comment says 120", n)
	}
	// Two answers with the same texts share them: each text is held once.
	obs2 := obs
	obs2.URL, obs2.BodySHA256 = "http://127.0.0.1/a?id=2", strings.Repeat("d3", 32)
	s2, _ := tx.compact(obs2)
	if s2.why != s.why || s2.excerpt != s.excerpt || s2.location != s.location || len(tx.list) != 8 {
		t.Errorf("texts of two answers: %d held, want the 7 of the first and \"\"", len(tx.list))
	}
}

// TestCanaryTargetCache: the prober remembers a URL's canary target for
// the next roles of the same endpoint, keyed by the rule, and not at all
// where the rule reads the role's variables. Here role a's rule reads
// {self.team} and has a target, b's rule has none: a cache keyed by URL
// alone would give b a's. Each answer is the one judge.CanaryTarget
// gives.
func TestCanaryTargetCache(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:8080", `roles:
  a: {vars: {team: red}}
  b: {vars: {team: blue}}
matrix:
  rules:
    - match: "GET /teams/{self.team}/{doc}"
      allow: [a]
    - match: "GET /teams/*/*"
      allow: [b]
`)
	vars := cfg.VarsWith(nil)
	p := &prober{cfg: cfg, vars: vars, targets: targetCache{seed: maphash.MakeSeed()}}
	for _, tt := range []struct{ url string }{{"http://127.0.0.1:8080/teams/red/report-7"}, {"http://127.0.0.1:8080/teams/blue/report-7"}} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"a", "b", "a", "b"} { // the second round reads the cache
			exp := cfg.Expect(http.MethodGet, u, role, vars)
			job := probeJob{probeEndpoint: &probeEndpoint{model.Endpoint{Method: http.MethodGet, URL: tt.url}, u}, sess: session.NewSession(cfg.Role(role)), rule: int32(exp.RuleIdx)}
			got, gotOK := p.canaryTarget(job)
			want, wantOK := judge.CanaryTarget(cfg, http.MethodGet, u, role, vars, exp.RuleIdx)
			if got != want || gotOK != wantOK {
				t.Errorf("%s as %s (rule %d): %+v %v, want %+v %v", tt.url, role, exp.RuleIdx, got, gotOK, want, wantOK)
			}
		}
	}
}

// TestAnswersDrain: drain hands every answer once, the last put first,
// across chunks, each as the role that got it with its keeper's place;
// what take finds no cell for counts as unused, and nothing waits after.
func TestAnswersDrain(t *testing.T) {
	a := NewAnswers()
	n := answerChunk + 10
	for i := range n {
		obs := model.Observation{Endpoint: model.Endpoint{Method: http.MethodGet, URL: fmt.Sprintf("http://127.0.0.1/p/%d", i)},
			Status: 200, Class: model.Allowed, BodySHA256: fmt.Sprintf("%064x", i)}
		role := []string{"admin", "reader"}[i%2]
		a.put(role, obs, session.Result[*page]{SendSeq: uint64(i), Generation: 1, Session: model.SessionLive})
	}
	if a.Len() != n {
		t.Fatalf("Len %d, want %d", a.Len(), n)
	}
	next := n - 1
	a.drain(func(obs model.Observation, sendSeq, gen uint64) bool {
		want := fmt.Sprintf("http://127.0.0.1/p/%d", next)
		if obs.URL != want || obs.Role != []string{"admin", "reader"}[next%2] || sendSeq != uint64(next) || gen != 1 ||
			obs.BodySHA256 != fmt.Sprintf("%064x", next) || obs.Session != model.SessionLive {
			t.Fatalf("answer %d: %+v seq %d gen %d", next, obs, sendSeq, gen)
		}
		next--
		return next%3 != 0 // every third has no cell
	})
	if next != -1 {
		t.Errorf("%d answers not handed", next+1)
	}
	if a.Len() != 0 || a.Unused() != n/3+1 {
		t.Errorf("after drain: Len %d, Unused %d, want 0 and %d", a.Len(), a.Unused(), n/3+1)
	}
}

// TestReuseTakesTheLastAnswer: of two answers discovery kept for one
// cell, the probe takes the last; when the last is not one it may take
// (an error), the cell is requested, never answered by the older one.
func TestReuseTakesTheLastAnswer(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", `
roles:
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
`)
	opts := testOptions(t, cfg)
	eps := []model.Endpoint{{Method: "GET", URL: "http://127.0.0.1:9/a"}, {Method: "GET", URL: "http://127.0.0.1:9/b"}}
	jobs := makeJobs(opts, eps, cfg.VarsWith(nil), slog.New(slog.DiscardHandler))
	sess := opts.Sessions[slices.IndexFunc(opts.Sessions, func(s *session.Session) bool { return s.Name() == "admin" })]
	obs := func(path, why string, class model.Class) model.Observation {
		return model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:9" + path}, Status: 200, Class: class, Why: why}
	}
	a := NewAnswers()
	res := session.Result[*page]{Generation: sess.Generation(), Session: model.SessionLive}
	a.put("admin", obs("/a", "older", model.Allowed), res)
	a.put("admin", obs("/a", "last", model.Allowed), res)
	a.put("admin", obs("/b", "older", model.Allowed), res)
	a.put("admin", obs("/b", "last", model.Error), res)
	p := &prober{cfg: cfg, keep: &probeRun{sendSeq: make([]uint64, jobs.len())}}
	got := map[int]string{}
	n := p.reuse(a, jobs, func(i int, o model.Observation) { got[i] = o.URL + " " + o.Why })
	ia, _ := jobs.cell(eps[0], "admin")
	want := map[int]string{ia: "http://127.0.0.1:9/a last"}
	if n != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("reused %d: %v, want 1: %v (cell 1's last answer is an error: it is requested)", n, got, want)
	}
	if a.Unused() != 0 {
		t.Errorf("%d answers unused, want 0: every one had a cell", a.Unused())
	}
}

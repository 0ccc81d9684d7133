package crawl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// notesServer is a small notes API: GET /api/notes lists the caller's
// notes (every note when leak is set), GET /api/big answers a body larger
// than any cap the tests set. Callers are known by their bearer token.
func notesServer(leak bool) *httptest.Server {
	owners := map[string]string{"Bearer alice-tok-Secret": "u1", "Bearer bob-tok-Secret": "u2"}
	notes := []map[string]string{{"id": "n1", "owner": "u1"}, {"id": "n2", "owner": "u2"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/notes", func(w http.ResponseWriter, r *http.Request) {
		me := owners[r.Header.Get("Authorization")]
		items := []map[string]string{}
		for _, n := range notes {
			if leak || n["owner"] == me {
				items = append(items, n)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "totalItems": len(items), "token": r.Header.Get("Authorization")})
	})
	mux.HandleFunc("GET /api/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"pad":%q,"marker":"end-marker"}`, strings.Repeat("x", 4096))
	})
	return httptest.NewServer(mux)
}

const notesRoles = `
roles:
  alice:
    login: {bearer: "${ALICE_TOKEN}"}
    vars: {user_id: u1}
  bob:
    login: {bearer: "${BOB_TOKEN}"}
    vars: {user_id: u2}
crawl: {max_body: 1024}
matrix:
  rules:
    - match: "GET /api/notes"
      allow: ["*"]
      body:
        - {path: "items[*].owner", equals: "{self.user_id}", roles: [alice, bob]}
        - {path: totalItems, equals: 0, roles: [anonymous]}
        - {path: "items[*].owner", not_equals: "{alice.user_id}", roles: [bob]}
    - match: "GET /api/big"
      allow: [alice]
      body:
        - contains: "end-marker"
        - {path: marker, equals: "end-marker"}
`

func probeNotes(t *testing.T, leak bool) map[string]model.Observation {
	t.Helper()
	srv := notesServer(leak)
	defer srv.Close()
	data := fmt.Sprintf("target: %s\n%s", srv.URL, notesRoles)
	env := map[string]string{"ALICE_TOKEN": "alice-tok-Secret", "BOB_TOKEN": "bob-tok-Secret"}
	cfg, err := roles.Parse("test.yaml", []byte(data), roles.LoadOptions{Env: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obs, err := Probe(ctx, testOptions(t, cfg), []model.Endpoint{{Method: "GET", URL: srv.URL + "/api/notes"}, {Method: "GET", URL: srv.URL + "/api/big"}})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	out := map[string]model.Observation{}
	for _, o := range obs {
		out[strings.TrimPrefix(o.URL, srv.URL)+" "+o.Role] = o
		for _, r := range o.BodyChecks {
			if strings.Contains(r.Detail, "tok-Secret") {
				t.Errorf("%s as %s: body check detail shows a token: %q", o.URL, o.Role, r.Detail)
			}
		}
	}
	return out
}

func TestProbeMakesBodyChecks(t *testing.T) {
	type res = model.BodyCheckResult
	pass := func(check string) res { return res{Check: check, Result: model.BodyPass} }
	own := `items[*].owner equals "{self.user_id}"`
	notAlice := `items[*].owner not_equals "{alice.user_id}"`
	for _, tc := range []struct {
		name string
		leak bool
		want map[string][]res
	}{
		{"each sees their own", false, map[string][]res{
			"/api/notes anonymous": {pass("totalItems equals 0")},
			"/api/notes alice":     {pass(own)},
			"/api/notes bob":       {pass(own), pass(notAlice)},
			"/api/big anonymous":   nil, // denied: its answer is judged, its body is not checked
			"/api/big bob":         nil,
			"/api/big alice": {
				{Check: `body contains "end-marker"`, Result: model.BodyUndecided, Detail: "the body was cut at the size cap before the check could decide; raise crawl.max_body"},
				{Check: `marker equals "end-marker"`, Result: model.BodyUndecided, Detail: "the body was cut at the size cap before the check could decide; raise crawl.max_body"},
			},
		}},
		{"the list leaks", true, map[string][]res{
			"/api/notes anonymous": {{Check: "totalItems equals 0", Result: model.BodyFail, Detail: "totalItems is 2, want 0"}},
			"/api/notes alice":     {{Check: own, Result: model.BodyFail, Detail: `items[1].owner is "u2", want "u1"`}},
			"/api/notes bob": {
				{Check: own, Result: model.BodyFail, Detail: `items[0].owner is "u1", want "u2"`},
				{Check: notAlice, Result: model.BodyFail, Detail: `items[0].owner is "u1"`},
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := probeNotes(t, tc.leak)
			for key, want := range tc.want {
				o, ok := got[key]
				if !ok {
					t.Errorf("%s: not probed", key)
					continue
				}
				if fmt.Sprint(o.BodyChecks) != fmt.Sprint(want) {
					t.Errorf("%s: body checks\n got %+v\nwant %+v", key, o.BodyChecks, want)
				}
			}
		})
	}
}

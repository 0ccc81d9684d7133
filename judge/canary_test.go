package judge

import (
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

func canaryConfig(t *testing.T, denyAs string) *roles.Config {
	t.Helper()
	cfg, err := roles.Parse("test.yaml", []byte(`target: http://h
roles:
  owner: {login: {bearer: t}}
  other: {login: {bearer: u}}
matrix:
  rules:
    - {match: "GET /notes/{id}", allow: [owner]`+denyAs+`}
    - {match: "GET /public/{id}", allow: ["*"]}
`), roles.LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// obs builds an observation; body is hashed as the probe does.
func obsOf(path, role string, status int, class model.Class, loc, body string) model.Observation {
	u := "http://h" + path
	o := model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: u}, Role: role, Status: status, Class: class, Location: loc}
	o.BodySHA256 = "raw:" + body
	o.BodySHA256WithoutIDs = "noids:" + model.StripIDs(u, body)
	return o
}

func canary(o model.Observation) model.Observation {
	o.CanaryOf = "http://h/notes/17"
	return o
}

func TestCompareCanaries(t *testing.T) {
	const c1, c2 = "/notes/911111111", "/notes/922222222"
	missing := func(path string) string { return "Note " + strings.TrimPrefix(path, "/notes/") + " not found (c) 2017" }
	tests := []struct {
		name     string
		denyAs   string
		obs      []model.Observation
		want     []string // "verdict role path"
		evidence bool     // the finding points at a canary
		notes    []string // "verdict template": existence-observable notes
	}{
		{"consistent 404", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "other", 404, model.Hidden, "", missing("/notes/17")),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, nil, false, nil},
		// The default forms do not ask for hiding: existence is
		// observable, a note, not a finding.
		{"403 where missing is 404", "", []model.Observation{
			obsOf("/notes/17", "other", 403, model.Forbidden, "", "forbidden"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, nil, false, []string{"existence-observable GET /notes/{id}"}},
		{"deny_as 403: a note", ", deny_as: 403", []model.Observation{
			obsOf("/notes/17", "other", 403, model.Forbidden, "", "forbidden"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, nil, false, []string{"existence-observable GET /notes/{id}"}},
		{"deny_as 403 or 404: a note", ", deny_as: [403, 404]", []model.Observation{
			obsOf("/notes/17", "other", 403, model.Forbidden, "", "forbidden"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, nil, false, []string{"existence-observable GET /notes/{id}"}},
		{"another message", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "other", 404, model.Hidden, "", "Note 17 is private (c) 2017"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, []string{"existence-leak other /notes/17"}, true, nil},
		{"canaries disagree: body not compared", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "other", 404, model.Hidden, "", "Note 17 is private, nonce 1"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", "nonce 2")),
			canary(obsOf(c2, "other", 404, model.Hidden, "", "nonce 3")),
		}, nil, false, nil},
		{"another login location", "", []model.Observation{
			obsOf("/notes/17", "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F17&exists=1", ""),
			canary(obsOf(c1, "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F911111111", "")),
			canary(obsOf(c2, "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F922222222", "")),
		}, nil, false, []string{"existence-observable GET /notes/{id}"}},
		{"another login location, hidden asked", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F17&exists=1", ""),
			canary(obsOf(c1, "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F911111111", "")),
			canary(obsOf(c2, "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F922222222", "")),
		}, []string{"existence-leak anonymous /notes/17"}, true, nil},
		{"location with a nonce the siblings disagree on", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F17&r=7", ""),
			canary(obsOf(c1, "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F911111111&r=3", "")),
			canary(obsOf(c2, "anonymous", 404, model.Hidden, "/x?next=%2Fnotes%2F922222222&r=4", "")),
		}, nil, false, nil},
		{"same login location", "", []model.Observation{
			obsOf("/notes/17", "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F17", ""),
			canary(obsOf(c1, "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F911111111", "")),
			canary(obsOf(c2, "anonymous", 302, model.Unauthenticated, "/login?next=%2Fnotes%2F922222222", "")),
		}, nil, false, nil},
		{"canaries allowed: nothing to compare", "", []model.Observation{
			obsOf("/notes/17", "other", 403, model.Forbidden, "", "forbidden"),
			canary(obsOf(c1, "other", 200, model.Allowed, "", "spa shell")),
			canary(obsOf(c2, "other", 200, model.Allowed, "", "spa shell")),
		}, nil, false, nil},
		{"allowed role not compared", "", []model.Observation{
			obsOf("/notes/17", "owner", 200, model.Allowed, "", "Note 17"),
			canary(obsOf(c1, "owner", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "owner", 404, model.Hidden, "", missing(c2))),
		}, nil, false, nil},
		{"matrix existence leak gets the evidence", ", deny_as: 404", []model.Observation{
			obsOf("/notes/17", "other", 403, model.Forbidden, "", "forbidden"),
			canary(obsOf(c1, "other", 404, model.Hidden, "", missing(c1))),
			canary(obsOf(c2, "other", 404, model.Hidden, "", missing(c2))),
		}, []string{"existence-leak other /notes/17"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &model.Run{}
			Judge(run, canaryConfig(t, tt.denyAs), tt.obs)
			var got []string
			for _, f := range run.Findings {
				got = append(got, string(f.Verdict)+" "+f.Role+" "+f.Path)
				if has := f.Canary != nil; has != tt.evidence {
					t.Errorf("%s: canary evidence %v, want %v", f.Path, has, tt.evidence)
				} else if has && run.Canaries[*f.Canary].CanaryOf == "" {
					t.Errorf("%s: evidence %d is no canary", f.Path, *f.Canary)
				}
				if tt.evidence && !strings.Contains(f.Observed, "missing sibling /notes/911111111") {
					t.Errorf("observed %q: want the sibling's answer", f.Observed)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
			var notes []string
			for _, n := range run.Notes {
				if n.Verdict == model.ExistenceObservable {
					notes = append(notes, string(n.Verdict)+" "+n.Template)
					if n.Canary == nil || !strings.Contains(n.Observed, "missing sibling /notes/911111111") || !strings.Contains(n.Message, "existence is observable") {
						t.Errorf("note %+v: want the sibling's answer as evidence", n)
					}
				}
			}
			if strings.Join(notes, "|") != strings.Join(tt.notes, "|") {
				t.Errorf("notes %q, want %q", notes, tt.notes)
			}
			if run.Observations.Len() != 1 || len(run.Canaries) != 2 {
				t.Errorf("%d cells and %d canaries, want 1 and 2", run.Observations.Len(), len(run.Canaries))
			}
			if run.Counts[model.ExistenceLeak] != len(tt.want) || run.Counts[model.Pass] != 1-len(tt.want) {
				t.Errorf("counts %v", run.Counts)
			}
			// Judged again without the canaries (a saved run), the same.
			obs := []model.Observation{run.Observations.At(0).Observation}
			Judge(run, canaryConfig(t, tt.denyAs), obs)
			if len(run.Findings) != len(tt.want) || len(run.Canaries) != 2 || run.Counts[model.ExistenceObservable] != len(tt.notes) {
				t.Errorf("judged again: %d findings, %d canaries", len(run.Findings), len(run.Canaries))
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	cfg := canaryConfig(t, "")
	e := func(path string, foundBy []string, sources ...string) model.Entry {
		return model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: "http://h" + path}, Template: model.Template("GET", "http://h"+path), FoundBy: foundBy, Sources: sources}
	}
	run := &model.Run{Inventory: model.Inventory{
		Entries: []model.Entry{
			e("/notes/17", []string{"anonymous", "other", "owner"}, "link", "start"),
			e("/notes/18", []string{"owner"}, "json"),
			{Endpoint: model.Endpoint{Method: "POST", URL: "http://h/notes/"}, Template: "POST /notes/", FoundBy: []string{"other", "owner"}, Sources: []string{"form"}},
		},
		Pages: map[string]int{"anonymous": 2, "owner": 5, "other": 3},
	}}
	var obs []model.Observation
	for _, role := range []string{"anonymous", "owner", "other"} {
		for _, p := range []string{"/notes/17", "/notes/18"} {
			class := model.Hidden
			if role == "owner" {
				class = model.Allowed
			}
			obs = append(obs, obsOf(p, role, 200, class, "", ""))
		}
	}
	Judge(run, cfg, obs)
	c := run.Coverage
	if c == nil || c.Endpoints != 3 || c.Probed != 2 || c.NotProbed != 1 {
		t.Fatalf("coverage %+v", c)
	}
	want := map[string]model.RoleCoverage{
		"anonymous": {Role: "anonymous", Found: 1, Pages: 2, Probed: 2},
		"owner":     {Role: "owner", Found: 3, Only: 1, Pages: 5, Probed: 2, Allowed: 2},
		"other":     {Role: "other", Found: 2, Pages: 3, Probed: 2},
	}
	if len(c.Roles) != 3 || c.Roles[0].Role != "anonymous" || c.Roles[1].Role != "owner" {
		t.Errorf("roles %+v: want configuration order", c.Roles)
	}
	for _, rc := range c.Roles {
		if rc != want[rc.Role] {
			t.Errorf("role %s: %+v, want %+v", rc.Role, rc, want[rc.Role])
		}
	}
	if len(c.Partial) != 2 || c.Partial[0].URL != "http://h/notes/18" || c.Partial[1].Method != "POST" {
		t.Errorf("partial %+v", c.Partial)
	}
	if c.Sources["link"] != 1 || c.Sources["json"] != 1 || c.Sources["form"] != 1 {
		t.Errorf("sources %v", c.Sources)
	}
}

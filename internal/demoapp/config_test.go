package demoapp

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// stringList is a YAML scalar or a list of scalars.
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = []string{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// demoConfig is the subset of docs/config.md the demo configuration uses.
type demoConfig struct {
	Target   string `yaml:"target"`
	LoginURL string `yaml:"login_url"`
	Scope    struct {
		Exclude []string `yaml:"exclude"`
	} `yaml:"scope"`
	Crawl struct {
		Start []string `yaml:"start"`
	} `yaml:"crawl"`
	Roles map[string]struct {
		Inherits []string          `yaml:"inherits"`
		Vars     map[string]string `yaml:"vars"`
		Check    *struct {
			URL string `yaml:"url"`
		} `yaml:"check"`
		Login struct {
			Basic *struct {
				Username string `yaml:"username"`
				Password string `yaml:"password"`
			} `yaml:"basic"`
			Bearer  string            `yaml:"bearer"`
			Cookies map[string]string `yaml:"cookies"`
		} `yaml:"login"`
	} `yaml:"roles"`
	Denials []struct {
		Body   string `yaml:"body"`
		Status int    `yaml:"status"`
	} `yaml:"denials"`
	Matrix struct {
		Default string `yaml:"default"`
		Rules   []struct {
			Match  stringList `yaml:"match"`
			Allow  []string   `yaml:"allow"`
			DenyAs stringList `yaml:"deny_as"`
		} `yaml:"rules"`
	} `yaml:"matrix"`
}

var reEnvRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadDemoConfig decodes Config() strictly, with ${NAME} expanded from Env.
func loadDemoConfig(t *testing.T) demoConfig {
	t.Helper()
	raw := Config()
	expanded := reEnvRef.ReplaceAllStringFunc(string(raw), func(ref string) string {
		v, ok := LookupEnv(reEnvRef.FindStringSubmatch(ref)[1])
		if !ok {
			t.Errorf("config references %s, which Env does not provide", ref)
		}
		return v
	})
	dec := yaml.NewDecoder(strings.NewReader(expanded))
	dec.KnownFields(true)
	var c demoConfig
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %s: %v", ConfigName, err)
	}
	return c
}

func TestConfig(t *testing.T) {
	raw := Config()
	if len(raw) == 0 {
		t.Fatal("Config() is empty")
	}
	raw[0] = 'X'
	if Config()[0] == 'X' {
		t.Error("Config() returns the embedded bytes, not a copy")
	}
	for _, role := range Roles() {
		if !bytes.Contains(raw, []byte(role)) {
			t.Errorf("config does not mention role %s", role)
		}
	}
	refs := map[string]bool{}
	for _, m := range reEnvRef.FindAllStringSubmatch(string(raw), -1) {
		refs[m[1]] = true
	}
	for name := range Env() {
		if !refs[name] {
			t.Errorf("Env() provides %s, which the config does not reference", name)
		}
	}
	for _, secret := range Env() {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("config holds a credential value in clear")
		}
	}

	c := loadDemoConfig(t)
	if c.Target != "http://127.0.0.1:8080" || c.LoginURL != "/login" || c.Matrix.Default != "deny" {
		t.Errorf("target %q, login_url %q, matrix.default %q; want http://127.0.0.1:8080, /login, deny", c.Target, c.LoginURL, c.Matrix.Default)
	}
	var names []string
	for name := range c.Roles {
		names = append(names, name)
	}
	sort.Strings(names)
	want := slices.Clone(Roles()[1:])
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("config roles %v, want %v (anonymous is implicit)", names, want)
	}
	cu, su, ad := c.Roles[Customer], c.Roles[Support], c.Roles[Admin]
	if cu.Login.Cookies[CustomerCookieName] != CustomerCookie || cu.Vars["order_id"] != "17" {
		t.Errorf("customer: cookies %v vars %v; want the demo cookie and order_id 17", len(cu.Login.Cookies), cu.Vars)
	}
	if su.Login.Bearer != SupportToken || !slices.Equal(su.Inherits, []string{Customer}) {
		t.Errorf("support: wrong bearer or inherits %v", su.Inherits)
	}
	if ad.Login.Basic == nil || ad.Login.Basic.Username != AdminUsername || ad.Login.Basic.Password != AdminPassword || !slices.Equal(ad.Inherits, []string{Support}) {
		t.Errorf("admin: wrong basic credentials or inherits %v", ad.Inherits)
	}
	if len(c.Denials) != 1 || c.Denials[0].Status != 200 {
		t.Fatalf("denials %+v, want one with status 200", c.Denials)
	}
	f := newFixture(t, Options{})
	// Each signed-in role's check answers 200 to the role and not to
	// anonymous: it proves the role's credentials, not just a live app.
	for _, role := range Roles()[1:] {
		chk := c.Roles[role].Check
		if chk == nil {
			t.Errorf("role %s has no check", role)
			continue
		}
		if got := f.get(t, role, chk.URL); got.Status != 200 {
			t.Errorf("check GET %s as %s = %d, want 200", chk.URL, role, got.Status)
		}
		if got := f.get(t, Anonymous, chk.URL); got.Status == 200 {
			t.Errorf("check GET %s answers 200 to anonymous: it proves nothing", chk.URL)
		}
	}
	if got := f.get(t, Customer, "/support/"); got.Status != 200 || !strings.Contains(got.Body, c.Denials[0].Body) {
		t.Errorf("GET /support/ as customer = %d, body without the denial signature %q", got.Status, c.Denials[0].Body)
	}
	for _, e := range Endpoints() {
		for _, role := range Roles() {
			if d := (Policy{}).Decide(role, e.Method, e.Path); d.Form != FormDenialPage && strings.Contains(f.get(t, role, e.Path).Body, c.Denials[0].Body) {
				t.Errorf("GET %s as %s holds the denial signature but is no denial page", e.Path, role)
			}
		}
	}
}

// The rest of this file is a small model of permaudit's judgement
// (docs/design.md, docs/config.md), enough to check that the embedded matrix
// encodes the intended policy: with no bug, no finding; with a bug, exactly
// its cells, with its verdict. The real end-to-end test runs permaudit.

// judge audits a running demo with the embedded configuration and returns
// the findings by cell. inheritVars says whether {self.var} sees the
// variables of inherited roles (both readings must give the same result).
func judge(t *testing.T, f *fixture, c demoConfig, inheritVars bool) map[Cell]string {
	t.Helper()
	ancestors := func(role string) []string {
		out := []string{role}
		for i := 0; i < len(out); i++ {
			out = append(out, c.Roles[out[i]].Inherits...)
		}
		return out
	}
	vars := func(role, name string) (string, bool) {
		rs := []string{role}
		if inheritVars {
			rs = ancestors(role)
		}
		for _, r := range rs {
			if v, ok := c.Roles[r].Vars[name]; ok {
				return v, true
			}
		}
		return "", false
	}
	allows := func(allow []string, role string) bool {
		for _, a := range allow {
			if a == "*" || slices.Contains(ancestors(role), a) {
				return true
			}
		}
		return false
	}
	classify := func(a answer, path string) string {
		for _, d := range c.Denials {
			if strings.Contains(a.Body, d.Body) && (d.Status == 0 || d.Status == a.Status) {
				return "forbidden"
			}
		}
		switch {
		case a.Status >= 200 && a.Status < 300 && path != c.LoginURL && strings.Contains(a.Body, `type="password"`):
			return "unauthenticated"
		case a.Status >= 200 && a.Status < 300:
			return "allowed"
		case a.Status == 401:
			return "unauthenticated"
		case a.Status >= 300 && a.Status < 400:
			if u, err := url.Parse(a.Location); err == nil && u.Path == c.LoginURL {
				return "unauthenticated"
			}
			return "other"
		case a.Status == 403:
			return "forbidden"
		case a.Status == 404 || a.Status == 410:
			return "hidden"
		case a.Status >= 500:
			return "error"
		}
		return "other"
	}
	formClass := map[string]string{"401": "unauthenticated", "login": "unauthenticated", "unauthenticated": "unauthenticated",
		"403": "forbidden", "forbidden": "forbidden", "404": "hidden", "410": "hidden", "hidden": "hidden"}
	reID := regexp.MustCompile(`/[0-9]+(/|$|\?)`)

	findings := map[Cell]string{}
	for _, e := range Endpoints() {
		for _, ex := range c.Scope.Exclude {
			if matchPattern(ex, e.Method, e.Path, "", vars) {
				t.Errorf("%s is excluded by scope pattern %q", e.Path, ex)
			}
		}
		for _, role := range Roles() {
			allow, denyAs, matched := false, []string(nil), false
			for _, r := range c.Matrix.Rules {
				if slices.ContainsFunc(r.Match, func(p string) bool { return matchPattern(p, e.Method, e.Path, role, vars) }) {
					allow, matched = allows(r.Allow, role), true
					for _, d := range r.DenyAs {
						denyAs = append(denyAs, formClass[d])
					}
					break
				}
			}
			if !matched && c.Matrix.Default != "deny" {
				t.Fatalf("%s: no rule and default %q", e.Path, c.Matrix.Default)
			}
			// Follow in-scope redirects that do not go to the login page.
			a, final := f.get(t, role, e.Path), e.Path
			for hops := 0; a.Status >= 300 && a.Status < 400 && hops < 5; hops++ {
				u, err := url.Parse(a.Location)
				if err != nil || u.IsAbs() || u.Path == c.LoginURL {
					break
				}
				final = u.RequestURI()
				a = f.get(t, role, final)
			}
			class := classify(a, strings.SplitN(final, "?", 2)[0])
			cell := Cell{e.Method, e.Path, role}
			denial := class == "unauthenticated" || class == "forbidden" || class == "hidden"
			switch {
			case class == "error" || class == "other":
				findings[cell] = "inconclusive-or-error " + class
			case allow && class == "allowed":
			case allow:
				findings[cell] = "blocked"
			case class == "allowed":
				findings[cell] = "leak"
			case len(denyAs) > 0 && !slices.Contains(denyAs, class):
				// As report does: an existence leak when only hidden is
				// right; a 403 where "401 or 404" was expected is a wrong code.
				if !slices.ContainsFunc(denyAs, func(c string) bool { return c != "hidden" }) {
					findings[cell] = "existence-leak"
				} else {
					findings[cell] = "wrong-code"
				}
			case len(denyAs) == 0 && role == Anonymous && class == "forbidden",
				len(denyAs) == 0 && role != Anonymous && class == "unauthenticated":
				findings[cell] = "wrong-code"
			case denial && reID.MatchString(e.Path):
				// A denied resource must answer like one that does not exist.
				canary := reID.ReplaceAllString(e.Path, "/999999$1")
				b := f.get(t, role, canary)
				id := strings.Trim(reID.FindString(e.Path), "/?")
				if b.Status != a.Status || strings.ReplaceAll(b.Body, "999999", "") != strings.ReplaceAll(a.Body, id, "") {
					findings[cell] = "existence-leak"
				}
			}
		}
	}
	return findings
}

// matchPattern matches a config pattern (no query part) against method
// and target as role, per docs/config.md.
func matchPattern(pat, method, target, role string, vars func(role, name string) (string, bool)) bool {
	m, p, ok := strings.Cut(pat, " ")
	if !ok {
		m, p = "", pat
	}
	if m != "" && m != "*" && m != method {
		return false
	}
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	var match func(ps, ss []string) bool
	match = func(ps, ss []string) bool {
		if len(ps) == 0 {
			return len(ss) == 0
		}
		if ps[0] == "**" {
			for i := 0; i <= len(ss); i++ {
				if match(ps[1:], ss[i:]) {
					return true
				}
			}
			return false
		}
		if len(ss) == 0 {
			return false
		}
		p, s := ps[0], ss[0]
		switch {
		case p == "*":
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && strings.Contains(p, "."):
			r, name, _ := strings.Cut(p[1:len(p)-1], ".")
			if r == "self" {
				r = role
			}
			if v, ok := vars(r, name); !ok || v != s {
				return false
			}
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			if s == "" {
				return false
			}
		case p != s:
			return false
		}
		return match(ps[1:], ss[1:])
	}
	return match(strings.Split(p, "/"), strings.Split(u.Path, "/"))
}

func TestConfigMatrixEncodesPolicy(t *testing.T) {
	c := loadDemoConfig(t)
	want := func(bugs Bugs) map[Cell]string {
		w := map[Cell]string{}
		for _, bug := range AllBugs() {
			if bugs.Has(bug.Name) {
				for _, cell := range bug.Cells {
					w[cell] = bug.Verdict
				}
			}
		}
		return w
	}
	cases := []Bugs{{}, AllBugsOn()}
	for _, bug := range AllBugs() {
		cases = append(cases, Bugs{}.With(bug.Name))
	}
	for _, bugs := range cases {
		f := newFixture(t, Options{Bugs: bugs})
		for _, inherit := range []bool{false, true} {
			got := judge(t, f, c, inherit)
			if fmt.Sprint(got) != fmt.Sprint(want(bugs)) {
				t.Errorf("bugs %v (vars inherited: %v): findings %v, want %v", bugs.Names(), inherit, got, want(bugs))
			}
		}
	}
}

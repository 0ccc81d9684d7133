package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// authAudit is one audit of authapp through the command layer.
type authAudit struct {
	code   int
	run    *model.Run
	app    *authapp.App
	stdout string
	stderr string
	err    error
	json   []byte // the run JSON file as written
}

// runAuthAudit starts authapp with opts, loads its configuration (edit
// may change the YAML), and audits it as the audit command does.
func runAuthAudit(t *testing.T, opts authapp.Options, env map[string]string, edit func(string) string, flags auditFlags) authAudit {
	t.Helper()
	srv, err := authapp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	yaml := string(authapp.Config())
	if edit != nil {
		yaml = edit(yaml)
	}
	if env == nil {
		env = authapp.Env()
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := roles.Parse("authapp.yaml", []byte(yaml), roles.LoadOptions{Env: lookup})
	if err != nil {
		t.Fatalf("load authapp config: %v", err)
	}
	if err := cfg.SetTarget(srv.URL()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runFile := filepath.Join(dir, "run.json")
	flags.Outs = append(flags.Outs, "json="+runFile)
	var out, errb bytes.Buffer
	io := ioStreams{Out: &out, Err: &errb, Env: lookup}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := auditTarget(ctx, cfg, flags, io, time.Now, func() string { return "test" })
	a := authAudit{run: run, app: srv.App, err: err}
	a.code = exitCode(err, &errb)
	a.stdout, a.stderr = out.String(), errb.String()
	a.json, _ = os.ReadFile(runFile)
	return a
}

// quickSessions makes every way a session ends happen in a short audit.
func quickSessions(p authapp.Policy) authapp.Options {
	return authapp.Options{
		Policy:         p,
		EditorRequests: 9,
		AdminRequests:  11,
		ViewerTTL:      time.Second, // longer than a sign-in under load: see the crawl tests for the viewer's end
		JWTTTL:         400 * time.Millisecond,
		OAuthTTL:       1,
	}
}

func TestAuditSignInReportsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy authapp.Policy
	}{
		{"correct application", authapp.Policy{}},
		{"planted leak", authapp.Policy{LeakExport: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := runAuthAudit(t, quickSessions(tc.policy), nil, nil, auditFlags{FailOn: "leak,blocked,existence-leak,wrong-code,error"})
			if a.run == nil {
				t.Fatalf("no run: exit %d, %v\nstderr:\n%s", a.code, a.err, a.stderr)
			}
			// The truth, from the application's policy: a finding exactly
			// where a planted bug changes an answer.
			users := append([]string{"anonymous"}, authapp.Users()...)
			var want []string
			for _, r := range authapp.Routes() {
				for _, u := range users {
					au := u
					if u == "anonymous" {
						au = ""
					}
					if got := tc.policy.Decide(au, r.Path); got.Bug != "" {
						want = append(want, fmt.Sprintf("leak GET %s as %s", r.Path, u))
					}
				}
			}
			var got []string
			for _, f := range a.run.Findings {
				got = append(got, fmt.Sprintf("%s %s %s as %s", f.Verdict, f.Method, f.Path, f.Role))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings:\n got  %q\n want %q\nstderr:\n%s", got, want, a.stderr)
			}
			wantCode := exitOK
			if len(want) > 0 {
				wantCode = exitGate
			}
			if a.code != wantCode {
				t.Errorf("exit code %d, want %d: %v", a.code, wantCode, a.err)
			}
			// Every route observed as every role; a session-ending route
			// only as anonymous.
			seen := map[string]bool{}
			for _, c := range a.run.Observations.All() {
				u, err := url.Parse(c.URL)
				if err != nil {
					t.Fatalf("observation of %s as %s: the URL does not parse: %v", c.URL, c.Role, err)
				}
				seen[u.RequestURI()+" as "+c.Role] = true
				if au := map[bool]string{true: "", false: c.Role}[c.Role == "anonymous"]; !strings.Contains(u.RequestURI(), "?") {
					if d := tc.policy.Decide(au, u.RequestURI()); c.Class != "error" && string(c.Class) != d.Class && d.Class != "" && knownRoute(u.RequestURI()) {
						t.Errorf("GET %s as %s: class %s (%s), the policy says %s", u.RequestURI(), c.Role, c.Class, c.Why, d.Class)
					}
				}
			}
			for _, r := range authapp.Routes() {
				for _, u := range users {
					wantSeen := !r.EndsSession || u == "anonymous"
					if seen[r.Path+" as "+u] != wantSeen {
						t.Errorf("GET %s as %s observed = %v, want %v", r.Path, u, seen[r.Path+" as "+u], wantSeen)
					}
				}
			}
			// Renewals per role, as the application counted sign-ins.
			byRole := map[string]model.RoleInfo{}
			for _, ri := range a.run.Roles {
				byRole[ri.Name] = ri
			}
			for _, u := range authapp.Users() {
				ri := byRole[u]
				logins := a.app.LoginsOf(u)
				if ri.SignIns != logins {
					t.Errorf("role %s: run says %d sign-ins, the application saw %d", u, ri.SignIns, logins)
				}
				if ri.SignIns != 1+ri.Renewals+ri.Refreshes {
					t.Errorf("role %s: %d sign-ins, want 1 + %d renewals + %d refreshes", u, ri.SignIns, ri.Renewals, ri.Refreshes)
				}
				if ri.SessionLost != 0 {
					t.Errorf("role %s: %d observations lost: %s", u, ri.SessionLost, ri.LostReason)
				}
				t.Logf("role %s: %s, %d sign-ins, %d renewals, %d refreshes, %d checks, session-ending %v", u, ri.SignIn, ri.SignIns, ri.Renewals, ri.Refreshes, ri.Checks, ri.SessionEnding)
			}
			// Sessions that end after N requests end in every run; the
			// viewer's, which ends after a time, only in a slow one (the
			// crawl tests make it end for sure).
			for _, u := range []string{authapp.Editor, authapp.Admin} {
				if byRole[u].Renewals == 0 {
					t.Errorf("role %s needed no renewal: the test's sessions do not end", u)
				}
			}
			for _, u := range authapp.Users() {
				if byRole[u].Renewals == 0 {
					continue
				}
				if want := fmt.Sprintf("  %s: %d renewal", u, byRole[u].Renewals); !strings.Contains(a.stdout, want) {
					t.Errorf("the text summary does not say %q:\n%s", want, a.stdout)
				}
			}
			// The session-ending URL is remembered and listed.
			var ending []string
			for _, ri := range a.run.Roles {
				ending = append(ending, ri.SessionEnding...)
			}
			if len(ending) == 0 || !strings.HasSuffix(ending[0], "/account/switch") {
				t.Errorf("session-ending URLs %q, want /account/switch", ending)
			}
			skipped := false
			for _, s := range a.run.Inventory.Skipped {
				skipped = skipped || strings.HasSuffix(s.URL, "/account/switch") && strings.HasPrefix(s.Reason, "session-ending")
			}
			if !skipped {
				t.Errorf("/account/switch is not listed as skipped: session-ending")
			}
			for _, u := range authapp.Users() {
				// At most the request that ended the session, a lone repeat
				// on a session that was not fresh, and the lone repeat on a
				// fresh session that proved it.
				if n := a.app.Hits("/account/switch", u); n > 3 {
					t.Errorf("/account/switch requested %d times as %s, want at most 3", n, u)
				}
			}
			if n := a.app.Hits("/logout", ""); n != 0 {
				t.Errorf("/logout requested %d times", n)
			}
			for _, r := range a.app.Requests() {
				if r.Path == "/logout" {
					t.Errorf("/logout requested as %q", r.User)
				}
			}
		})
	}
}

// knownRoute reports whether path is in the route table.
func knownRoute(path string) bool {
	for _, r := range authapp.Routes() {
		if r.Path == path {
			return true
		}
	}
	return false
}

func TestAuditWrongPasswordExitsThree(t *testing.T) {
	env := authapp.Env()
	env["ADMIN_PASSWORD"] = "Wrong-Secret-4410"
	a := runAuthAudit(t, authapp.Options{}, env, nil, auditFlags{})
	if a.code != exitUnreachable {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s", a.code, exitUnreachable, a.stderr)
	}
	if !strings.Contains(a.stderr, "role admin could not sign in") || !strings.Contains(a.stderr, "still holds the login form") {
		t.Errorf("stderr does not name the role and what was seen:\n%s", a.stderr)
	}
	if strings.Contains(a.stderr, "role editor") {
		t.Errorf("stderr blames a role that signed in:\n%s", a.stderr)
	}
	for _, secret := range []string{"Wrong-Secret-4410", authapp.AdminPassword} {
		if strings.Contains(a.stderr+a.stdout, secret) || a.err != nil && strings.Contains(a.err.Error(), secret) {
			t.Errorf("the password %q... appears in the output", secret[:4])
		}
	}
	// Nothing was probed: no request after the sign-ins but the checks.
	for _, r := range a.app.Requests() {
		if r.Path == "/reports/" || r.Path == "/admin/" {
			t.Errorf("request %s %s made although a role could not sign in", r.Method, r.Path)
		}
	}
	if a.run != nil {
		t.Errorf("a run was returned")
	}
}

func TestAuditSkipFailedRoles(t *testing.T) {
	env := authapp.Env()
	env["API_PASSWORD"] = "Wrong-Secret-7781"
	a := runAuthAudit(t, authapp.Options{}, env, nil, auditFlags{SkipFailedRoles: true})
	if a.run == nil {
		t.Fatalf("no run: exit %d: %v\n%s", a.code, a.err, a.stderr)
	}
	if a.code != exitGate {
		t.Errorf("exit code %d, want %d (the failed role's cells are errors)", a.code, exitGate)
	}
	for _, c := range a.run.Observations.All() {
		isErr := c.Class == "error" && c.Session == "not-signed-in"
		if (c.Role == authapp.API) != isErr {
			t.Errorf("GET %s as %s: class %s session %q", c.URL, c.Role, c.Class, c.Session)
		}
	}
	for _, f := range a.run.Findings {
		if f.Role != authapp.API || f.Verdict != model.ErrorVerdict {
			t.Errorf("finding %s %s as %s: %s", f.Verdict, f.Path, f.Role, f.Message)
		}
	}
	for _, ri := range a.run.Roles {
		if (ri.Name == authapp.API) != (ri.SignInError != "") {
			t.Errorf("role %s: sign_in_error %q", ri.Name, ri.SignInError)
		}
	}
	if n := a.app.Hits("/reports/", ""); n == 0 {
		t.Errorf("the other roles were not audited")
	}
	if strings.Contains(string(a.json)+a.stderr, "Wrong-Secret-7781") {
		t.Errorf("the wrong password appears in the run or the log")
	}
}

func TestAuditNoSecretInAnyOutput(t *testing.T) {
	dir := t.TempDir()
	outs := []string{"text=-"}
	files := map[string]string{}
	for _, format := range []string{"html", "junit", "sarif", "markdown", "csv"} {
		files[format] = filepath.Join(dir, "out."+format)
		outs = append(outs, format+"="+files[format])
	}
	a := runAuthAudit(t, quickSessions(authapp.Policy{}), nil, nil, auditFlags{Verbose: 2, Outs: outs})
	if a.run == nil {
		t.Fatalf("no run: exit %d: %v\n%s", a.code, a.err, a.stderr)
	}
	if !strings.Contains(a.stderr, "level=DEBUG") {
		t.Fatalf("no debug log captured:\n%s", a.stderr)
	}
	secrets := a.app.Secrets()
	for _, v := range authapp.Env() {
		secrets = append(secrets, v)
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets issued: the test proves little", len(secrets))
	}
	errText := ""
	if a.err != nil {
		errText = a.err.Error()
	}
	places := []struct{ name, text string }{
		{"run JSON", string(a.json)}, {"stdout", a.stdout}, {"log", a.stderr}, {"error", errText},
	}
	for format, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		places = append(places, struct{ name, text string }{format, string(b)})
	}
	// The HTML report's evidence is gzipped and base64-encoded: a secret
	// in it would not show in the file's bytes.
	html, _ := os.ReadFile(files["html"])
	places = append(places, struct{ name, text string }{"HTML evidence", htmlEvidenceText(t, string(html))})
	for _, where := range places {
		if where.text == "" && where.name != "error" {
			t.Errorf("%s is empty", where.name)
		}
		for _, s := range secrets {
			if strings.Contains(where.text, s) {
				t.Errorf("%s holds the secret %q...", where.name, s[:4])
			}
		}
	}
	if !errors.Is(a.err, nil) && a.code != exitOK {
		t.Logf("exit %d: %v", a.code, a.err)
	}
}

// htmlEvidenceText decodes every evidence chunk of an HTML report
// (base64 of gzipped JSON, report/html_evidence.go) into one text.
func htmlEvidenceText(t *testing.T, page string) string {
	t.Helper()
	var all strings.Builder
	chunks := regexp.MustCompile(`class="pa-evidence" data-first="\d+">([^<]*)</script>`).FindAllStringSubmatch(page, -1)
	if len(chunks) == 0 {
		t.Fatal("the HTML report has no evidence chunk")
	}
	for _, c := range chunks {
		gz, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c[1]))
		if err != nil {
			t.Fatalf("evidence: %v", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("evidence: %v", err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("evidence: %v", err)
		}
		all.Write(raw)
	}
	return all.String()
}

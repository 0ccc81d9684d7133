package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/roles"
)

// demoConfig starts the demo application with bugs and returns its
// configuration pointed at it.
func demoConfig(t *testing.T, bugs demoapp.Bugs) *roles.Config {
	t.Helper()
	srv, err := demoapp.Start(demoapp.Options{Bugs: bugs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg, err := roles.Parse(demoapp.ConfigName, demoapp.Config(), roles.LoadOptions{Env: demoapp.LookupEnv})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.SetTarget(srv.URL()); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRunAsALibrary audits the demo through Run alone, as a program
// embedding permaudit would: the findings are the planted bugs' cells
// (the truth comes from the demo's bug table, not from the audit), the
// gate fails, and the configuration is left as it was loaded.
func TestRunAsALibrary(t *testing.T) {
	bugs := demoapp.AllBugsOn()
	cfg := demoConfig(t, bugs)
	before, known := cfg.Fingerprint(), len(cfg.Secrets.Values())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "lib", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	if run == nil || !run.Complete || res.Interrupted {
		t.Fatalf("run %+v, interrupted %v: want a complete run", run, res.Interrupted)
	}
	var want, got []string
	for _, b := range demoapp.AllBugs() {
		for _, c := range b.Cells {
			want = append(want, fmt.Sprintf("%s %s %s as %s", b.Verdict, c.Method, c.Path, c.Role))
		}
	}
	for _, f := range run.Findings {
		got = append(got, fmt.Sprintf("%s %s %s as %s", f.Verdict, f.Method, f.Path, f.Role))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got  %q\n want %q", got, want)
	}
	if !run.Gate.Failed {
		t.Error("the gate did not fail on the planted bugs")
	}
	if cfg.Fingerprint() != before || cfg.Crawl.UserAgent != "" {
		t.Errorf("the audit changed its configuration (user agent %q)", cfg.Crawl.UserAgent)
	}
	if n := len(cfg.Secrets.Values()); n != known {
		t.Errorf("the configuration's redactor knows %d secrets after the audit, %d before: run-time secrets belong to the run's", n, known)
	}
	for _, r := range cfg.Roles {
		for _, c := range r.Login.Capture {
			if _, ok := r.Vars[c.Var]; ok {
				t.Errorf("role %s: the captured %s was written into the configuration", r.Name, c.Var)
			}
		}
	}
}

// TestRunErrorKinds: an audit that cannot be made says why with a Kind,
// never with an exit code.
func TestRunErrorKinds(t *testing.T) {
	cfg := demoConfig(t, demoapp.Bugs{})
	if err := cfg.SetTarget("http://127.0.0.1:1"); err != nil { // nothing listens there
		t.Fatal(err)
	}
	_, err := Run(context.Background(), cfg, Options{RunID: "lib"})
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != Unreachable {
		t.Errorf("unreachable target: %v, want an Unreachable Error", err)
	}

	cfg = demoConfig(t, demoapp.Bugs{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, cfg, Options{RunID: "lib"})
	if !errors.As(err, &ae) || ae.Kind != Interrupted {
		t.Errorf("cancelled before any probe: %v, want an Interrupted Error", err)
	}
}

// TestRunLeavesTheConfigurationAsLoaded audits authapp, whose roles sign
// in with forms, JSON, OAuth 2.0 and an XSRF cookie and capture their
// ids: the secrets obtained and the values captured belong to the run,
// never to the configuration, whose redactor, variables and fingerprint
// stay as they were loaded.
func TestRunLeavesTheConfigurationAsLoaded(t *testing.T) {
	srv, err := authapp.Start(authapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	env := authapp.Env()
	cfg, err := roles.Parse("authapp.yaml", authapp.Config(), roles.LoadOptions{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.SetTarget(srv.URL()); err != nil {
		t.Fatal(err)
	}
	fingerprint, known := cfg.Fingerprint(), len(cfg.Secrets.Values())
	secrets := cfg.Secrets.Clone()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "lib", Secrets: secrets})
	if err != nil || res.Run == nil {
		t.Fatalf("Run: %v", err)
	}
	if len(secrets.Values()) <= known {
		t.Fatalf("the run's redactor learned nothing (%d secrets): the sign-ins obtained no secret?", len(secrets.Values()))
	}
	for _, v := range srv.App.Secrets() {
		if secrets.Redact(v) == v {
			t.Errorf("the run's redactor does not know a secret the application issued (%d bytes)", len(v))
		}
	}
	if n := len(cfg.Secrets.Values()); n != known {
		t.Errorf("the configuration's redactor knows %d secrets after the audit, %d before", n, known)
	}
	if cfg.Fingerprint() != fingerprint {
		t.Error("the audit changed the configuration's fingerprint")
	}
	for _, r := range cfg.Roles {
		for _, c := range r.Login.Capture {
			if _, ok := r.Vars[c.Var]; ok {
				t.Errorf("role %s: the captured %s was written into the configuration", r.Name, c.Var)
			}
		}
	}
}

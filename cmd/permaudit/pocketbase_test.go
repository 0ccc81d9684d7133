package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/report"
)

// The PocketBase integration suite (testdata/pocketbase/README.md): a real
// application nobody here wrote, audited against its documented policy.
//
// Run it alone with:
//
//	go test ./cmd/permaudit -run TestPocketBase -v
//
// It builds testdata/pocketbase (a nested module: PocketBase v0.36.8 and
// its dependencies stay out of permaudit's go.mod) without -race, caches
// the binary by a hash of its sources, and starts one PocketBase per case
// on a free 127.0.0.1 port with a temporary data directory. When the
// build is impossible (no go command, no module cache and no proxy) the
// suite is skipped, except with CI=true, where it fails.

const pbDir = "../../testdata/pocketbase"

// pbCase is one start of the fixture: PB_LOOSEN and the leaks that
// loosening must cause, as "path role", and nothing else.
type pbCase struct {
	loosen string
	leaks  []string
}

func pbCases() []pbCase {
	leaks := func(paths []string, roles ...string) []string {
		var out []string
		for _, p := range paths {
			for _, r := range roles {
				out = append(out, p+" "+r)
			}
		}
		return out
	}
	const recs = "/api/collections/"
	return []pbCase{
		{loosen: ""},
		// Every signed-in user lists every note: the 200 list holds other
		// users' notes, which only a body check sees.
		{loosen: "list", leaks: leaks([]string{recs + "notes/records"}, "alice", "bob", "staff")},
		// Every signed-in user views every note.
		{loosen: "owner", leaks: append(
			leaks([]string{recs + "notes/records/notealice000001"}, "bob", "staff"),
			leaks([]string{recs + "notes/records/notebob00000001"}, "alice", "staff")...)},
		// Every signed-in user lists and views the staff documents.
		{loosen: "staff", leaks: leaks([]string{recs + "staff_docs/records", recs + "staff_docs/records/staffdoc0000001"}, "alice", "bob")},
		// The locked collection answers everyone.
		{loosen: "locked", leaks: leaks([]string{recs + "vault/records", recs + "vault/records/vault0000000001"}, "anonymous", "alice", "bob", "staff")},
		// PocketBase's own superuser APIs lose their guard.
		{loosen: "superuser", leaks: leaks([]string{"/api/backups", "/api/collections", recs + "notes", "/api/logs", "/api/settings"}, "anonymous", "alice", "bob", "staff")},
	}
}

func TestPocketBase(t *testing.T) {
	if testing.Short() {
		t.Skip("the PocketBase suite builds and runs a real PocketBase; skipped with -short")
	}
	bin := pocketbaseBinary(t)
	for _, tc := range pbCases() {
		name := tc.loosen
		if name == "" {
			name = "strict"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pb := startPocketBase(t, bin, tc.loosen)
			code, run, out := auditPocketBase(t, pb)
			var got []string
			for _, f := range run.Findings {
				if f.Verdict != report.Leak {
					t.Errorf("finding other than a leak: %s %s as %s: %s", f.Verdict, f.Path, f.Role, f.Message)
					continue
				}
				got = append(got, f.Path+" "+f.Role)
			}
			want := slices.Clone(tc.leaks)
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("PB_LOOSEN=%q: leaks\n got %q\nwant %q\n%s", tc.loosen, got, want, out)
			}
			wantCode := exitOK
			if len(want) > 0 {
				wantCode = exitGate
			}
			if code != wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, wantCode, out)
			}
			checkPocketBaseRun(t, run)
			if tc.loosen == "" {
				// No 401 of PocketBase carries WWW-Authenticate: a note,
				// never a finding.
				noted := false
				for _, n := range run.Notes {
					noted = noted || n.Verdict == report.MissingWWWAuth && n.Template == "GET /api/settings"
				}
				if !noted {
					t.Errorf("no missing-www-authenticate note for /api/settings; notes: %+v", run.Notes)
				}
				// The same application audited twice gives the same
				// inventory, findings and notes.
				_, again, _ := auditPocketBase(t, pb)
				for _, part := range []struct {
					name string
					a, b any
				}{{"inventory", run.Inventory, again.Inventory}, {"findings", run.Findings, again.Findings}, {"notes", run.Notes, again.Notes}} {
					ja, _ := json.Marshal(part.a)
					jb, _ := json.Marshal(part.b)
					if !bytes.Equal(ja, jb) {
						t.Errorf("a second audit gives other %s:\n%s\n%s", part.name, ja, jb)
					}
				}
			}
		})
	}
}

// checkPocketBaseRun checks what every audit of the fixture shows,
// loosened or not.
func checkPocketBaseRun(t *testing.T, run *report.Run) {
	t.Helper()
	if !run.Complete {
		t.Errorf("run incomplete: %s", run.Incomplete)
	}
	// Every configured endpoint was probed as every role; the body
	// checks were made.
	roles := map[string]bool{}
	checks := 0
	for _, c := range run.Observations {
		roles[c.Role] = true
		checks += len(c.BodyChecks)
	}
	if len(roles) != 5 || len(run.Observations) < 28*5 {
		t.Errorf("%d observations of roles %v, want at least %d of 5 roles", len(run.Observations), roles, 28*5)
	}
	if checks == 0 {
		t.Errorf("no body check was made")
	}
}

// pocketbaseBinary builds the fixture once per version of its sources and
// returns the binary's path.
func pocketbaseBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "no go command to build the PocketBase fixture: %v", err)
	}
	sum, err := sourceHash(pbDir)
	if err != nil {
		t.Fatalf("hash the fixture's sources: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	dir := filepath.Join(cache, "permaudit-test", "pocketbase-"+sum[:16])
	bin := filepath.Join(dir, "pocketbase")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		skipOrFail(t, "cache directory for the PocketBase fixture: %v", err)
	}
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		skipOrFail(t, "cache directory for the PocketBase fixture: %v", err)
	}
	tmp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Without -race whatever the tests run with: PocketBase under the race
	// detector is slow and tests nothing of ours.
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildvcs=false", "-trimpath", "-o", tmp.Name(), ".")
	cmd.Dir = pbDir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp.Name())
		skipOrFail(t, "cannot build the PocketBase fixture (go build -C testdata/pocketbase: it needs the Go module proxy or a module cache holding PocketBase v0.36.8): %v\n%s", err, out)
	}
	t.Logf("built the PocketBase fixture in %v", time.Since(start).Round(time.Second))
	if err := os.Rename(tmp.Name(), bin); err != nil {
		t.Fatalf("cache the PocketBase fixture: %v", err)
	}
	// Binaries of older sources are never used again.
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "pocketbase-*"))
	for _, o := range old {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	return bin
}

// skipOrFail skips the test, or fails it when CI=true: in CI the suite
// must run.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// sourceHash hashes the fixture's go.mod, go.sum and Go files, and the Go
// version and platform that build it.
func sourceHash(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pbFixture is what the fixture's seed command prints.
type pbFixture struct {
	Superuser struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"superuser"`
	Users map[string]struct {
		ID       string `json:"id"`
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"users"`
}

// pocketBase is one running fixture.
type pocketBase struct {
	URL    string
	Tokens map[string]string // permaudit role -> auth token
}

// startPocketBase creates the superuser with PocketBase's own command,
// serves on a free 127.0.0.1 port with a temporary data directory, seeds
// users and records through the API, and signs every role in. It is
// stopped when the test ends.
func startPocketBase(t *testing.T, bin, loosen string) *pocketBase {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "superuser", "upsert", "root@example.test", "root-pass-0001", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("pocketbase superuser upsert: %v\n%s", err, out)
	}
	var base string
	for attempt := 0; ; attempt++ {
		var err error
		base, err = servePocketBase(t, bin, dir, loosen)
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatalf("start PocketBase: %v", err)
		}
		t.Logf("start PocketBase: %v; trying another port", err)
	}
	var seedOut, seedErr bytes.Buffer
	seed := exec.CommandContext(ctx, bin, "seed", "--url", base)
	seed.Stdout, seed.Stderr = &seedOut, &seedErr
	if err := seed.Run(); err != nil {
		t.Fatalf("pocketbase seed: %v\n%s", err, seedErr.String())
	}
	var fx pbFixture
	if err := json.Unmarshal(seedOut.Bytes(), &fx); err != nil {
		t.Fatalf("pocketbase seed printed %q: %v", seedOut.String(), err)
	}
	// TODO(issue 3): permaudit's JSON login signs the roles in; until
	// then the test does, and hands the tokens over as bearers.
	pb := &pocketBase{URL: base, Tokens: map[string]string{}}
	pb.Tokens["superuser"] = pbLogin(ctx, t, base, "_superusers", fx.Superuser.Email, fx.Superuser.Password, "")
	for _, role := range []string{"alice", "bob", "staff"} {
		u, ok := fx.Users[role]
		if !ok {
			t.Fatalf("the seed has no user %s", role)
		}
		pb.Tokens[role] = pbLogin(ctx, t, base, "users", u.Email, u.Password, u.ID)
	}
	return pb
}

// servePocketBase starts `serve` on a free port and waits until it is
// healthy; the process is stopped when the test ends.
func servePocketBase(t *testing.T, bin, dir, loosen string) (string, error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--http", addr, "--dir", dir)
	cmd.Env = append(os.Environ(), "PB_LOOSEN="+loosen)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("pocketbase serve on %s exited: %v\n%s", addr, err, logs.String())
		default:
		}
		resp, err := client.Get(base + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return base, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("pocketbase serve on %s is not healthy after 20s\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pbLogin signs in with PocketBase's password login, checks the answer's
// record id, and proves the token live with auth-refresh: PocketBase reads
// an invalid token as anonymous rather than refusing it.
func pbLogin(ctx context.Context, t *testing.T, base, collection, email, password, wantID string) string {
	t.Helper()
	var login struct {
		Token  string `json:"token"`
		Record struct {
			ID string `json:"id"`
		} `json:"record"`
	}
	body, _ := json.Marshal(map[string]string{"identity": email, "password": password})
	if err := pbPost(ctx, base+"/api/collections/"+collection+"/auth-with-password", "", body, &login); err != nil {
		t.Fatalf("sign in %s as %s: %v", collection, email, err)
	}
	if login.Token == "" || wantID != "" && login.Record.ID != wantID {
		t.Fatalf("sign in %s as %s: token %d bytes, record id %q, want a token and id %q", collection, email, len(login.Token), login.Record.ID, wantID)
	}
	if err := pbPost(ctx, base+"/api/collections/"+collection+"/auth-refresh", login.Token, nil, nil); err != nil {
		t.Fatalf("auth-refresh as %s: %v", email, err)
	}
	return login.Token
}

func pbPost(ctx context.Context, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// auditPocketBase runs `permaudit audit` with the fixture's configuration
// through the command's entry point, and returns the exit code, the saved
// run and everything printed.
func auditPocketBase(t *testing.T, pb *pocketBase) (int, *report.Run, string) {
	t.Helper()
	env := map[string]string{
		"PB_ALICE_TOKEN":     pb.Tokens["alice"],
		"PB_BOB_TOKEN":       pb.Tokens["bob"],
		"PB_STAFF_TOKEN":     pb.Tokens["staff"],
		"PB_SUPERUSER_TOKEN": pb.Tokens["superuser"],
	}
	path := filepath.Join(t.TempDir(), "run.json")
	var out, errb bytes.Buffer
	tty := false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"audit", "-c", filepath.Join(pbDir, "permaudit.yaml"), "--target", pb.URL, "--out", "json=" + path}, ioStreams{
		Out: &out, Err: &errb, TTY: &tty,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	printed := out.String() + errb.String()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("audit exited %d without a run: %v\n%s", code, err, printed)
	}
	defer f.Close()
	r, err := report.ReadRun(f)
	if err != nil {
		t.Fatalf("read run: %v", err)
	}
	data, _ := os.ReadFile(path)
	for role, tok := range pb.Tokens {
		if strings.Contains(printed, tok) || bytes.Contains(data, []byte(tok)) {
			t.Errorf("the outputs show %s's token", role)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the audit took more than 2 minutes")
	}
	return code, r, printed
}

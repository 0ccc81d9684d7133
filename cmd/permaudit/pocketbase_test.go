package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
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

// pbCollections are the collections PocketBase's /api/collections names:
// the fixture's and PocketBase's own.
var pbCollections = []string{"_authOrigins", "_externalAuths", "_mfas", "_otps", "_superusers",
	"announcements", "notes", "posts", "staff_docs", "users", "vault"}

// pbStarts is the number of crawl.start URLs in permaudit.yaml that no
// JSON answer names (/_/, where /_ redirects, counted).
const pbStarts = 9

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
		// Every collection's view is one of them.
		{loosen: "superuser", leaks: leaks(append([]string{"/api/backups", "/api/collections", "/api/logs", "/api/settings"}, pbCollectionViews()...), "anonymous", "alice", "bob", "staff")},
	}
}

func pbCollectionViews() []string {
	var out []string
	for _, c := range pbCollections {
		out = append(out, "/api/collections/"+c)
	}
	return out
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
				if f.Verdict != model.Leak {
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
				// The token check recognises PocketBase's real tokens.
				if tok := pbToken(t, pb.URL, "alice@example.test", pb.Passwords["PB_ALICE_PASSWORD"]); !pbJWT.MatchString(tok) {
					t.Errorf("a PocketBase token of %d bytes does not match %s: the outputs' token check is blind", len(tok), pbJWT)
				}
				// No 401 of PocketBase carries WWW-Authenticate: a note,
				// never a finding.
				noted := false
				for _, n := range run.Notes {
					noted = noted || n.Verdict == model.MissingWWWAuth && n.Template == "GET /api/settings"
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
func checkPocketBaseRun(t *testing.T, run *model.Run) {
	t.Helper()
	if !run.Complete {
		t.Errorf("run incomplete: %s", run.Incomplete)
	}
	// Every role but anonymous signed in once with the JSON login, ran its
	// check (auth-refresh) at least once, and kept its session.
	for _, ri := range run.Roles {
		if ri.Name == "anonymous" {
			continue
		}
		if ri.SignIn != "json" || ri.SignIns != 1 || ri.Checks == 0 || ri.Renewals != 0 || ri.SessionLost != 0 || ri.SignInError != "" ||
			!strings.HasPrefix(ri.Check, "POST ") || !strings.HasSuffix(ri.Check, "/auth-refresh") {
			t.Errorf("role %s: %+v, want one json sign-in, auth-refresh checks and no renewal", ri.Name, ri)
		}
	}
	// Discovery found, from JSON answers, every collection (its view and
	// its list) and every record of the fixture's own collections, and no
	// record of a system collection (scope.exclude).
	found := map[string][]string{}
	for _, e := range run.Inventory.Entries {
		u, err := url.Parse(e.URL)
		if err != nil {
			t.Fatalf("inventory URL %q: %v", e.URL, err)
		}
		found[u.Path] = e.Sources
		if strings.HasPrefix(u.Path, "/api/collections/_") && strings.Count(u.Path, "/") > 4 {
			t.Errorf("a system collection's record is in the inventory: %s", e.URL)
		}
		if testing.Verbose() {
			t.Logf("%s %q", u.Path, e.Sources)
		}
	}
	if testing.Verbose() {
		for _, sk := range run.Inventory.Skipped {
			t.Logf("skipped %s %s: %s", sk.Method, sk.URL, sk.Reason)
		}
	}
	// PocketBase's answers name /api/ and /api/batch too (404 to GET, for
	// everyone: the matrix's default deny).
	want := []string{"/api/", "/api/batch"}
	for _, c := range pbCollections {
		want = append(want, "/api/collections/"+c, "/api/collections/"+c+"/records")
	}
	for _, id := range []string{"posts/records/post00000000001", "announcements/records/annc00000000001",
		"notes/records/notealice000001", "notes/records/notebob00000001", "staff_docs/records/staffdoc0000001",
		"vault/records/vault0000000001", "users/records/usralice0000001", "users/records/usrbob000000001",
		"users/records/usrstaff0000001"} {
		want = append(want, "/api/collections/"+id)
	}
	for _, u := range want {
		if !slices.Contains(found[u], "json") {
			t.Errorf("discovery did not find %s in a JSON answer (sources %q)", u, found[u])
		}
	}
	if len(run.Inventory.Entries) != len(want)+pbStarts {
		var all []string
		for _, e := range run.Inventory.Entries {
			all = append(all, e.String())
		}
		t.Errorf("inventory of %d endpoints, want %d: %q", len(all), len(want)+pbStarts, all)
	}
	// Every endpoint was probed as every role; the body checks were made.
	roles := map[string]bool{}
	checks := 0
	for _, c := range run.Observations.All() {
		roles[c.Role] = true
		checks += len(c.BodyChecks)
	}
	if len(roles) != 5 || run.Observations.Len() != len(run.Inventory.Entries)*5 {
		t.Errorf("%d observations of roles %v, want %d of 5 roles", run.Observations.Len(), roles, len(run.Inventory.Entries)*5)
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
	URL       string
	Passwords map[string]string // environment variable -> password
}

// startPocketBase creates the superuser with PocketBase's own command,
// serves on a free 127.0.0.1 port with a temporary data directory, and
// seeds users and records through the API. It is
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
	// permaudit signs every role in itself (permaudit.yaml); the test
	// only hands it the passwords, and checks the seed's accounts are
	// the ones the configuration names.
	pb := &pocketBase{URL: base, Passwords: map[string]string{"PB_SUPERUSER_PASSWORD": fx.Superuser.Password}}
	if fx.Superuser.Email != "root@example.test" {
		t.Fatalf("the seed's superuser is %s, permaudit.yaml signs in root@example.test", fx.Superuser.Email)
	}
	for _, role := range []string{"alice", "bob", "staff"} {
		u, ok := fx.Users[role]
		if !ok || u.Email != role+"@example.test" || u.Password == "" {
			t.Fatalf("the seed has no user %s@example.test with a password: %+v", role, u)
		}
		pb.Passwords["PB_"+strings.ToUpper(role)+"_PASSWORD"] = u.Password
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
	return waitAnswering(t, "pocketbase serve on "+addr, "http://"+addr, "/api/health", 20*time.Second, exited, stop, &logs)
}

// auditPocketBase runs `permaudit audit` with the fixture's configuration
// through the command's entry point, and returns the exit code, the saved
// run and everything printed.
func auditPocketBase(t *testing.T, pb *pocketBase) (int, *model.Run, string) {
	t.Helper()
	a := auditFixture(t, filepath.Join(pbDir, "permaudit.yaml"), pb.URL, pb.Passwords, 2*time.Minute)
	checkNoSecrets(t, pb, a.outputs...)
	return a.code, a.run, a.printed
}

// pbJWT is a token PocketBase issues: a JWT, whose header and payload
// are base64url JSON objects ("eyJ" is `{"`).
var pbJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// checkNoSecrets fails the test when an output shows a password the test
// gave or a token permaudit obtained (signing in, or renewing with the
// check, whose answer holds a fresh token).
func checkNoSecrets(t *testing.T, pb *pocketBase, outputs ...string) {
	t.Helper()
	for i, out := range outputs {
		for name, pw := range pb.Passwords {
			if strings.Contains(out, pw) {
				t.Errorf("output %d shows the password of %s", i, name)
			}
		}
		if tok := pbJWT.FindString(out); tok != "" {
			t.Errorf("output %d shows a PocketBase token (%d bytes starting %.12s)", i, len(tok), tok)
		}
	}
}

// pbToken signs a user in with PocketBase's password login, as permaudit
// does, and returns the token.
func pbToken(t *testing.T, base, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"identity": email, "password": password})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/collections/users/auth-with-password", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
	defer resp.Body.Close()
	var login struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s: %s, %v", email, resp.Status, err)
	}
	return login.Token
}

package session

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestSignOutSendsTheSessionOnly: the logout request carries the
// session's cookie and the header resolved from its capture, with the
// token the latest sign-in captured, and never the role's static
// credentials (a session given in the configuration is never ended); it
// is sent once.
func TestSignOutSendsTheSessionOnly(t *testing.T) {
	var mu sync.Mutex
	n := 0
	var logouts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/login":
			if r.Method == http.MethodGet {
				fmt.Fprint(w, `<form method="post"><input name="u"><input type="password" name="p"></form>`)
				return
			}
			n++
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: fmt.Sprintf("session-%d-0123456789", n)})
			fmt.Fprintf(w, "welcome; logout token t%d", n)
		case "/logout":
			c, _ := r.Cookie("sid")
			var cv string
			if c != nil {
				cv = c.Value
			}
			logouts = append(logouts, fmt.Sprintf("%s %s sid=%s nonce=%s key=%s static=%v", r.Method, r.URL.RequestURI(), cv, r.Header.Get("X-Nonce"), r.Header.Get("X-Api-Key"), strings.Contains(r.Header.Get("Cookie"), "given")))
		}
	}))
	defer srv.Close()
	s, _ := authSession(t, srv.URL, `roles:
  r:
    login:
      form: {url: /login, fields: {u: r, p: pw}}
      capture: {tok: "regex:token (t\\d+)"}
      headers: {X-Api-Key: static-key-0123, X-Nonce: "{self.tok}"}
      cookies: {given: static-cookie-0123}
      renew: {backoff: 0s}
      logout: {method: POST, url: "/logout?token={self.tok}"}
`, "r", map[string]string{}, SessionOptions{})
	ctx := context.Background()
	if err := s.SignOut(ctx); err != nil { // never signed in: nothing to end
		t.Fatal(err)
	}
	if err := s.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.SignOut(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"POST /logout?token=t2 sid=session-2-0123456789 nonce=t2 key= static=false"}
	if strings.Join(logouts, "\n") != strings.Join(want, "\n") {
		t.Errorf("logouts\n got  %q\n want %q", logouts, want)
	}
}

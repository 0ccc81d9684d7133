package hostiletest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Unavailable is a small healthy site with a few endpoints that answer
// 503 to every request, for ever: its index links Pages pages under
// /page/ and Broken endpoints under /api/broken/ (side by side in sorted
// order, so that they are requested together). It logs every request it
// is sent: the log is the truth a test checks the crawler's waits
// against.
type Unavailable struct {
	*httptest.Server

	mu  sync.Mutex
	log []Request
}

// Request is one request an Unavailable server was sent.
type Request struct {
	At     time.Time
	Path   string
	Broken bool // answered 503
}

// NewUnavailable starts an Unavailable server.
func NewUnavailable(pages, broken int) *Unavailable {
	var links []string
	for i := range pages {
		links = append(links, fmt.Sprintf("/page/%d", i))
	}
	for i := range broken {
		links = append(links, fmt.Sprintf("/api/broken/%d", i))
	}
	u := &Unavailable{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bad := strings.HasPrefix(r.URL.Path, "/api/broken/")
		u.mu.Lock()
		u.log = append(u.log, Request{At: time.Now(), Path: r.URL.Path, Broken: bad})
		u.mu.Unlock()
		switch {
		case bad:
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		case r.URL.Path == "/":
			page(w, "unavailable", links, "")
		case strings.HasPrefix(r.URL.Path, "/page/"):
			page(w, r.URL.Path, nil, "a healthy page")
		default:
			http.NotFound(w, r)
		}
	}))
	return u
}

// Log returns every request received, in order of arrival.
func (u *Unavailable) Log() []Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.log)
}

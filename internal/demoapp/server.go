package demoapp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is the demo application listening on a loopback port.
type Server struct {
	// App is the application served, for its request log and logout count.
	App *App

	url  string
	srv  *http.Server
	done chan struct{}
}

// Start serves New(opts) on 127.0.0.1 at a port the system chooses. Call
// Close when done.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start demo app: listen on 127.0.0.1: %w", err)
	}
	app := New(opts)
	s := &Server{
		App:  app,
		url:  "http://" + ln.Addr().String(),
		srv:  &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// URL returns the base URL the demo listens on, such as
// "http://127.0.0.1:41234", without a trailing slash.
func (s *Server) URL() string { return s.url }

// Close stops the server at once, closing every connection, and waits
// until it has stopped serving.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("close demo app at %s: %w", s.url, err)
	}
	return nil
}

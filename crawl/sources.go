package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// sourceSet is what the configured sources hold, read once before the
// crawl and handed to every role.
type sourceSet struct {
	seeds []seed  // sources.list, then the HAR files, in order
	api   []apiOp // every operation of every API document
	// pages counts the requests made to fetch API documents, per role.
	pages map[string]int
}

// seed is an endpoint a source names before any page is fetched.
type seed struct {
	method string
	raw    string // a path or an absolute URL; "{role.var}" is expanded per role
	source string
	where  string // "file:line" of a list entry, for messages
}

// CheckSources reads the files the configuration's sources name (HAR
// files and OpenAPI or Swagger documents given as files) and reports the
// first that cannot be used, naming it. It sends no request: documents
// given by URL are read during discovery.
func CheckSources(cfg *roles.Config) error {
	_, err := readSourceFiles(cfg)
	return err
}

// readSourceFiles reads the list entries, the HAR files and the API
// documents given as files.
func readSourceFiles(cfg *roles.Config) (*sourceSet, error) {
	s := &sourceSet{pages: map[string]int{}}
	for _, e := range cfg.Sources.List {
		s.seeds = append(s.seeds, seed{method: e.Method, raw: e.URL, source: SourceList, where: e.Where})
	}
	for i, p := range cfg.Sources.HAR {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("sources.har[%d]: %w", i, err)
		}
		reqs, err := parseHAR(data)
		if err != nil {
			return nil, fmt.Errorf("sources.har[%d] %s: %w", i, p, err)
		}
		for _, r := range reqs {
			s.seeds = append(s.seeds, seed{method: r.method, raw: r.url, source: SourceHAR, where: p})
		}
	}
	for i, spec := range cfg.Sources.OpenAPI {
		if spec.File == "" {
			continue
		}
		data, err := os.ReadFile(spec.File)
		if err != nil {
			return nil, fmt.Errorf("sources.openapi[%d]: %w", i, err)
		}
		ops, err := parseAPIDoc(data)
		if err != nil {
			return nil, fmt.Errorf("sources.openapi[%d] %s: %w", i, spec.File, err)
		}
		s.api = append(s.api, ops...)
	}
	return s, nil
}

// loadSources reads every configured source. An API document given by
// URL is fetched as each role in role order until one gets a 2xx answer
// that reads as a document; one that no role can read is logged and left
// out, since the rest of the discovery can go on without it.
func loadSources(ctx context.Context, opts Options, lim limits, log *slog.Logger) (*sourceSet, error) {
	s, err := readSourceFiles(opts.Config)
	if err != nil {
		return nil, err
	}
	secrets := opts.Secrets
	for i, spec := range opts.Config.Sources.OpenAPI {
		if spec.URL == "" {
			continue
		}
		u, err := model.Normalize(opts.Scope.origin, spec.URL)
		if err != nil {
			return nil, fmt.Errorf("sources.openapi[%d]: %w", i, err)
		}
		var problems []error
		var ops []apiOp
		for _, sess := range opts.Sessions {
			if ctx.Err() != nil {
				return s, nil
			}
			data, err := fetchDoc(ctx, opts.Clients[sess.Name()], u.String(), lim.maxBody)
			s.pages[sess.Name()]++
			if err == nil {
				ops, err = parseAPIDoc(data)
			}
			if err == nil {
				break
			}
			problems = append(problems, fmt.Errorf("as %s: %w", sess.Name(), err))
		}
		if ops == nil {
			log.Warn("API document left out: no role could read it", "source", fmt.Sprintf("sources.openapi[%d]", i),
				"url", secrets.Redact(u.String()), "error", secrets.Redact(errors.Join(problems...).Error()))
			continue
		}
		s.api = append(s.api, ops...)
	}
	return s, nil
}

// fetchDoc GETs a document with client and returns its body.
func fetchDoc(ctx context.Context, client *http.Client, raw string, maxBody int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("larger than crawl.max_body (%d bytes)", maxBody)
	}
	return body, nil
}

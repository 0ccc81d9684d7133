package judge

import (
	"net/url"
	"testing"

	"github.com/permaudit/permaudit/judge/judgetest"
	"github.com/permaudit/permaudit/model"
)

// Short names for the shared test tables (package judgetest).
var (
	parseConfig  = judgetest.ParseConfig
	ob           = judgetest.Ob
	withLocation = judgetest.WithLocation
	withChain    = judgetest.WithChain
	withErr      = judgetest.WithErr
	shop         = judgetest.Shop
)

const (
	testConfig = judgetest.Config
	base       = judgetest.Base
)

// shopRun judges Shop(...) with the shared test matrix into a complete
// run.
func shopRun(t *testing.T, leak, code, hide bool) *model.Run {
	t.Helper()
	run := judgetest.ShopRun()
	Judge(run, parseConfig(t, testConfig), shop(leak, code, hide))
	return run
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}

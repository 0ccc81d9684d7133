package report

import "github.com/permaudit/permaudit/judge/judgetest"

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

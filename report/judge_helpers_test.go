package report

import "github.com/permaudit/permaudit/judge/judgetest"

// The shared test tables of judging (package judgetest) that the
// baseline and rendering tests judge.
var (
	parseConfig = judgetest.ParseConfig
	shop        = judgetest.Shop
)

const testConfig = judgetest.Config

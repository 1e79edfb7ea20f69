package export

import "github.com/wsscope/wsscope/pipeline"

// appendSecurity writes the security fields of an anomaly whose code is a
// security finding (pipeline.SecurityRisk): `,"category":"security",
// "risk":"low"|"medium"|"high"`. Nothing is written for other codes, so
// records of other anomalies are unchanged.
func appendSecurity(b []byte, code string) []byte {
	risk := pipeline.SecurityRisk(code)
	if risk == "" {
		return b
	}
	b = append(b, `,"category":"`...)
	b = append(b, pipeline.CategorySecurity...)
	b = append(b, `","risk":"`...)
	b = append(b, risk...)
	return append(b, '"')
}
